import { assertEquals, assertThrows } from "@std/assert";
import { map } from "rxjs";
import { Dataflow, flowGraph, keyOn, step, visualize, type VisualizeFormat } from "../../mod.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";

import { shop } from "./_shop_flow.ts";

Deno.test("visualize: Mermaid of a flow with a branch, merges, a join and a window", () => {
  assertEquals(
    visualize(shop()),
    `flowchart TD
  s0[/"clicks (input)"/]
  s1{"is_big (branch)"}
  s2["pipe_1 (pipe)"]
  s3(("both (merge)"))
  s4["by_user (keyOn)"]
  s5[/"users (input)"/]
  s6["key_users (keyOn)"]
  subgraph s7["joined (join)"]
    s8["side_0 (mapValue)"]
    s9["side_1 (mapValue)"]
    s10(("merge (merge)"))
    s11[["join (statefulBatch)"]]
  end
  s12[\\"joined_out (output)"\\]
  subgraph s13["per_min (countWindow)"]
    s14["key (keyOn)"]
    s15[["windows (statefulBatch)"]]
    s16["down (filterMap)"]
    s17["late (filterMap)"]
    s18["meta (filterMap)"]
    s19["early (filterMap)"]
  end
  s20[\\"counts (output)"\\]
  s0 -->|"down"| s1
  s0 -->|"down"| s14
  s1 -->|"trues"| s3
  s1 -->|"falses"| s2
  s2 -->|"down"| s3
  s3 -->|"down"| s4
  s4 -->|"down"| s8
  s5 -->|"down"| s6
  s6 -->|"down"| s9
  s8 -->|"down"| s10
  s9 -->|"down"| s10
  s10 -->|"down"| s11
  s11 -->|"down"| s12
  s14 -->|"down"| s15
  s15 -->|"down"| s16
  s15 -->|"down"| s17
  s15 -->|"down"| s18
  s15 -->|"down"| s19
  s16 -->|"down"| s20`,
  );
});

Deno.test("visualize: DOT of the same flow, scopes as clusters", () => {
  assertEquals(
    visualize(shop(), { format: "dot" }),
    `digraph "shop" {
  node [shape=box];
  s0 [label="clicks (input)", shape=invhouse];
  s1 [label="is_big (branch)", shape=diamond];
  s2 [label="pipe_1 (pipe)"];
  s3 [label="both (merge)", shape=circle];
  s4 [label="by_user (keyOn)"];
  s5 [label="users (input)", shape=invhouse];
  s6 [label="key_users (keyOn)"];
  subgraph cluster_s7 {
    label="joined (join)";
    s8 [label="side_0 (mapValue)"];
    s9 [label="side_1 (mapValue)"];
    s10 [label="merge (merge)", shape=circle];
    s11 [label="join (statefulBatch)", shape=box3d];
  }
  s12 [label="joined_out (output)", shape=house];
  subgraph cluster_s13 {
    label="per_min (countWindow)";
    s14 [label="key (keyOn)"];
    s15 [label="windows (statefulBatch)", shape=box3d];
    s16 [label="down (filterMap)"];
    s17 [label="late (filterMap)"];
    s18 [label="meta (filterMap)"];
    s19 [label="early (filterMap)"];
  }
  s20 [label="counts (output)", shape=house];
  s0 -> s1 [label="down"];
  s0 -> s14 [label="down"];
  s1 -> s3 [label="trues"];
  s1 -> s2 [label="falses"];
  s2 -> s3 [label="down"];
  s3 -> s4 [label="down"];
  s4 -> s8 [label="down"];
  s5 -> s6 [label="down"];
  s6 -> s9 [label="down"];
  s8 -> s10 [label="down"];
  s9 -> s10 [label="down"];
  s10 -> s11 [label="down"];
  s11 -> s12 [label="down"];
  s14 -> s15 [label="down"];
  s15 -> s16 [label="down"];
  s15 -> s17 [label="down"];
  s15 -> s18 [label="down"];
  s15 -> s19 [label="down"];
  s16 -> s20 [label="down"];
}`,
  );
});

Deno.test("visualize: JSON streams of the join and window flow name producers and consumers", () => {
  const graph = JSON.parse(visualize(shop(), { format: "json" }));
  assertEquals(graph, flowGraph(shop()));
  assertEquals([graph.version, graph.flowId, graph.steps.length], [1, "shop", 21]);
  assertEquals(graph.steps[7], {
    id: "shop.joined",
    name: "joined",
    kind: "scope",
    opType: "join",
    parent: "shop",
    ups: ["shop.by_user.down", "shop.key_users.down"],
    downs: ["shop.joined.join.down"],
  });
  assertEquals(
    graph.streams.map((s: { id: string; from: string; to: string[] }) =>
      `${s.from} -${s.id.slice(s.from.length + 1)}-> ${s.to.join(",") || "(unread)"}`
    ),
    [
      "shop.clicks -down-> shop.is_big,shop.per_min.key",
      "shop.is_big -trues-> shop.both",
      "shop.is_big -falses-> shop.pipe_1",
      "shop.pipe_1 -down-> shop.both",
      "shop.both -down-> shop.by_user",
      "shop.by_user -down-> shop.joined.side_0",
      "shop.users -down-> shop.key_users",
      "shop.key_users -down-> shop.joined.side_1",
      "shop.joined.side_0 -down-> shop.joined.merge",
      "shop.joined.side_1 -down-> shop.joined.merge",
      "shop.joined.merge -down-> shop.joined.join",
      "shop.joined.join -down-> shop.joined_out",
      "shop.per_min.key -down-> shop.per_min.windows",
      "shop.per_min.windows -down-> shop.per_min.down,shop.per_min.late,shop.per_min.meta,shop.per_min.early",
      "shop.per_min.down -down-> shop.counts",
      "shop.per_min.late -down-> (unread)",
      "shop.per_min.meta -down-> (unread)",
      "shop.per_min.early -down-> (unread)",
    ],
  );
});

Deno.test("visualize: exact JSON text of a nested step() scope", () => {
  const flow = new Dataflow("nest");
  flow.input("inp", new TestingSource([1]))
    .pipe(step("clean", map((x: number) => x), keyOn("k", String)))
    .output("out", new TestingSink([]));
  assertEquals(
    visualize(flow, { format: "json" }),
    JSON.stringify(
      {
        version: 1,
        flowId: "nest",
        steps: [
          {
            id: "nest.inp",
            name: "inp",
            kind: "input",
            opType: "input",
            parent: "nest",
            ups: [],
            downs: ["nest.inp.down"],
          },
          {
            id: "nest.clean",
            name: "clean",
            kind: "scope",
            opType: "step",
            parent: "nest",
            ups: ["nest.inp.down"],
            downs: ["nest.clean.k.down"],
          },
          {
            id: "nest.clean.pipe_1",
            name: "pipe_1",
            kind: "rx",
            opType: "pipe",
            parent: "nest.clean",
            ups: ["nest.inp.down"],
            downs: ["nest.clean.pipe_1.down"],
          },
          {
            id: "nest.clean.k",
            name: "k",
            kind: "chain",
            opType: "keyOn",
            parent: "nest.clean",
            ups: ["nest.clean.pipe_1.down"],
            downs: ["nest.clean.k.down"],
          },
          {
            id: "nest.out",
            name: "out",
            kind: "output",
            opType: "output",
            parent: "nest",
            ups: ["nest.clean.k.down"],
            downs: [],
          },
        ],
        streams: [
          { id: "nest.inp.down", port: "down", from: "nest.inp", to: ["nest.clean.pipe_1"] },
          {
            id: "nest.clean.pipe_1.down",
            port: "down",
            from: "nest.clean.pipe_1",
            to: ["nest.clean.k"],
          },
          { id: "nest.clean.k.down", port: "down", from: "nest.clean.k", to: ["nest.out"] },
        ],
      },
      null,
      2,
    ),
  );
  assertEquals(
    visualize(flow),
    `flowchart TD
  s0[/"inp (input)"/]
  subgraph s1["clean (step)"]
    s2["pipe_1 (pipe)"]
    s3["k (keyOn)"]
  end
  s4[\\"out (output)"\\]
  s0 -->|"down"| s2
  s2 -->|"down"| s3
  s3 -->|"down"| s4`,
  );
});

Deno.test("visualize: quotes in a name are escaped; an unknown format is refused", () => {
  const flow = new Dataflow("q");
  flow.input('say "hi"', new TestingSource([1])).output("out", new TestingSink([]));
  assertEquals(visualize(flow).split("\n")[1], '  s0[/"say #quot;hi#quot; (input)"/]');
  assertEquals(
    visualize(flow, { format: "dot" }).split("\n")[2],
    '  s0 [label="say \\"hi\\" (input)", shape=invhouse];',
  );
  const err = assertThrows(
    () => visualize(flow, { format: "svg" as VisualizeFormat }),
    RangeError,
  );
  assertEquals(err.message, 'visualize format must be "mermaid", "json" or "dot", got "svg"');
});

Deno.test("weir visualize examples/wordcount.ts prints the Mermaid graph; a bad format is a usage error", async () => {
  const { main } = await import("../../src/cli.ts");
  const logs: string[] = [];
  const errors: string[] = [];
  const out = { log: (t: string) => logs.push(t), error: (t: string) => errors.push(t) };
  assertEquals(await main(["visualize", "examples/wordcount.ts"], out), 0);
  assertEquals(errors, []);
  assertEquals(
    logs,
    [`flowchart TD
  s0[/"lines (input)"/]
  s1["split (flatMap)"]
  subgraph s2["count (step)"]
    s3["key (keyOn)"]
    s4[["count (statefulBatch)"]]
  end
  s5["all (keyOn)"]
  s6[["gather (statefulBatch)"]]
  s7["rank (flatMap)"]
  s8["pipe_1 (pipe)"]
  s9[\\"out (output)"\\]
  s0 -->|"down"| s1
  s1 -->|"down"| s3
  s3 -->|"down"| s4
  s4 -->|"down"| s5
  s5 -->|"down"| s6
  s6 -->|"down"| s7
  s7 -->|"down"| s8
  s8 -->|"down"| s9`],
  );
  logs.length = 0;
  assertEquals(await main(["visualize", "-f", "dot", "examples/wordcount.ts"], out), 0);
  assertEquals(logs[0]!.split("\n")[0], 'digraph "wordcount" {');
  assertEquals(await main(["visualize", "--format=svg", "examples/wordcount.ts"], out), 2);
  assertEquals(errors, [
    'weir: --format needs one of mermaid, dot, json, got "svg"',
    "Run with --help for usage",
  ]);
});
