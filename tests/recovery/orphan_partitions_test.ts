// Stored positions of source or sink partitions that the flow's sources and sinks no longer
// list are refused like state of removed steps (a renamed input would be read again from its
// start into the restored state), and dropped with dropOrphans.
import { assertEquals, assertRejects } from "@std/assert";
import {
  Dataflow,
  EOF,
  type FixedPartitionedSource,
  keyOn,
  RecoveryError,
  run,
  type RunOptions,
  statefulMap,
} from "../../mod.ts";
import { DirSink, FileSource } from "../../connectors/files.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { TestingMarker } from "../../src/testing/testing_source.ts";
import { storeTest } from "./_stores.ts";

/** Counts the lines read from `path` (one running count for the whole input). */
function lineCount(path: string) {
  const out: [string, number][] = [];
  const flow = new Dataflow("lines");
  flow.input("inp", new FileSource(path))
    .pipe(
      keyOn("all", () => "all"),
      statefulMap("count", (n: number | undefined) => [(n ?? 0) + 1, (n ?? 0) + 1]),
    )
    .output("out", new TestingSink(out));
  return {
    out,
    async run(opts: RunOptions) {
      out.length = 0;
      return await run(flow, opts);
    },
  };
}

Deno.test("a renamed FileSource path is refused; with dropOrphans the run goes on and the next resume does not complain", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_orphan_file_" });
  try {
    const store = `${dir}/store`;
    const input = `${dir}/in.txt`;
    await Deno.writeTextFile(input, "a\nb\n");
    await lineCount(input).run({ recovery: { backend: fsBackend(store), create: true } });
    // The same file, spelled another way: a partition the store has no position for.
    const renamed = lineCount(`${dir}/./in.txt`);
    const err = await assertRejects(
      () => renamed.run({ recovery: { backend: fsBackend(store) } }),
      RecoveryError,
    );
    assertEquals(
      err.message,
      `The recovery store in directory ${store} holds positions of partitions this flow's ` +
        `sources and sinks no longer list: lines.inp partition ${JSON.stringify(input)} ` +
        `(source). A renamed partition would start over from its beginning. List them again ` +
        `(e.g. the same path, spelled the same way), or pass dropOrphans: true to delete ` +
        `their positions`,
    );
    assertEquals(renamed.out, []);
    // Dropping is the user's explicit choice: the renamed partition starts at byte 0.
    await renamed.run({ recovery: { backend: fsBackend(store), dropOrphans: true } });
    assertEquals(renamed.out, [["all", 3], ["all", 4]]);
    await Deno.writeTextFile(input, "c\n", { append: true });
    await renamed.run({ recovery: { backend: fsBackend(store) } });
    assertEquals(renamed.out, [["all", 5]]);
    // And the old name is now the orphan.
    const back = lineCount(input);
    const again = await assertRejects(
      () => back.run({ recovery: { backend: fsBackend(store) } }),
      RecoveryError,
    );
    assertEquals(
      again.message.split(": ")[1],
      `lines.inp partition ${JSON.stringify(`${dir}/./in.txt`)} (source). A renamed partition ` +
        `would start over from its beginning. List them again (e.g. the same path, spelled ` +
        `the same way), or pass dropOrphans`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a DirSink shrunk from 4 files to 3 is refused; dropOrphans drops the fourth file's position once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_orphan_dir_" });
  try {
    const store = `${dir}/store`;
    const outDir = `${dir}/out`;
    await Deno.mkdir(outDir);
    const items: Array<[string, string]> = [];
    for (let i = 0; i < 40; i++) items.push([`k${i}`, `v${i}`]);
    const flowWith = (files: number) => {
      const flow = new Dataflow("shrink");
      const inp: Array<[string, string] | TestingMarker> = [
        ...items,
        TestingSource.EOF(),
        ["k1", "late"],
      ];
      flow.input("inp", new TestingSource(inp))
        .output("out", new DirSink(outDir, files));
      return flow;
    };
    await run(flowWith(4), { recovery: { backend: fsBackend(store), create: true } });
    const names = [...Deno.readDirSync(outDir)].map((e) => e.name).sort();
    assertEquals(names, ["part_0", "part_1", "part_2", "part_3"]);
    const part3 = await Deno.readTextFile(`${outDir}/part_3`);
    const err = await assertRejects(
      () => run(flowWith(3), { recovery: { backend: fsBackend(store) } }),
      RecoveryError,
    );
    assertEquals(
      err.message,
      `The recovery store in directory ${store} holds positions of partitions this flow's ` +
        `sources and sinks no longer list: shrink.out partition "part_3" (sink). A renamed ` +
        `partition would start over from its beginning. List them again (e.g. the same ` +
        `path, spelled the same way), or pass dropOrphans: true to delete their positions`,
    );
    await run(flowWith(3), { recovery: { backend: fsBackend(store), dropOrphans: true } });
    // The remaining files continue; the fourth is left as it was.
    assertEquals(await Deno.readTextFile(`${outDir}/part_3`), part3);
    const all = ["part_0", "part_1", "part_2"].map((n) => Deno.readTextFileSync(`${outDir}/${n}`))
      .join("");
    assertEquals(all.split("\n").filter((l) => l === "late").length, 1);
    // The drop was committed: the next resume (nothing left to read) does not complain.
    assertEquals(
      (await run(flowWith(3), { recovery: { backend: fsBackend(store) } })).status,
      "eof",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A source with the partitions `names`, each reading `<name>:0`, `<name>:1`, … to `n`. */
function partsSource(names: readonly string[], n: number): FixedPartitionedSource<string, number> {
  return {
    listParts: () => names,
    buildPart(_stepId, name, resume) {
      let i = resume ?? 0;
      return {
        nextBatch: () => i < n ? [`${name}:${i++}`] : EOF,
        snapshot: () => i,
      };
    },
  };
}

storeTest(
  "a partitioned source that no longer lists a partition is refused, and drops it with dropOrphans",
  async (s) => {
    const out: string[] = [];
    const flowOf = (names: readonly string[], n: number) => {
      const flow = new Dataflow("parts");
      flow.input("inp", partsSource(names, n)).output("out", new TestingSink(out));
      return flow;
    };
    await run(flowOf(["p0", "p1", "p2"], 2), { recovery: s.config() });
    assertEquals(out.sort(), ["p0:0", "p0:1", "p1:0", "p1:1", "p2:0", "p2:1"]);
    out.length = 0;
    const err = await assertRejects(
      () => run(flowOf(["p1"], 3), { recovery: s.config({ create: false }) }),
      RecoveryError,
    );
    assertEquals(
      err.message,
      `The recovery store in ${s.backend().description} holds positions of partitions this ` +
        `flow's sources and sinks no longer list: parts.inp partition "p0" (source), ` +
        `parts.inp partition "p2" (source). A renamed partition would start over from its ` +
        `beginning. List them again (e.g. the same path, spelled the same way), or pass ` +
        `dropOrphans: true to delete their positions`,
    );
    assertEquals(out, []);
    await run(flowOf(["p1"], 3), { recovery: s.config({ dropOrphans: true }) });
    assertEquals(out, ["p1:2"]);
    out.length = 0;
    // The drop was committed: p0 and p2 are gone from the store, and put back they start over.
    await run(flowOf(["p0", "p1"], 4), { recovery: s.config({ create: false }) });
    assertEquals(out.sort(), ["p0:0", "p0:1", "p0:2", "p0:3", "p1:3"]);
  },
);
