import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { Dataflow, DataflowError, keyOn } from "../../mod.ts";
import { statefulMap } from "../../src/operators/stateful_map.ts";
import { statefulFlatMap } from "../../src/operators/stateful_flat_map.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("statefulMap: Bytewax's buggy 'last 3' mean", async () => {
  const out: [string, number][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([2, 5, 8, 1, 3]))
    .pipe(
      keyOn("key", () => "ALL"),
      statefulMap("avg", (last3: number[] | undefined, v: number): [number[], number] => {
        let s = last3 ?? [];
        s.push(v);
        if (s.length > 3) s = s.slice(0, 1); // the bug Bytewax's test keeps on purpose
        return [s, s.reduce((a, b) => a + b, 0) / s.length];
      }),
    )
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["ALL", 2], ["ALL", 3.5], ["ALL", 5], ["ALL", 2], ["ALL", 2.5]]);
});

Deno.test("statefulMap: returning undefined state discards it", async () => {
  const out: [string, [number | undefined, number]][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource<[string, number]>([["a", 1], ["a", 0], ["a", 5], ["b", 7]]))
    .pipe(
      statefulMap(
        "s",
        (
          prev: number | undefined,
          v: number,
        ): [number | undefined, [number | undefined, number]] => [v === 0 ? undefined : v, [
          prev,
          v,
        ]],
      ),
    )
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", [undefined, 1]], ["a", [1, 0]], ["a", [undefined, 5]], ["b", [
    undefined,
    7,
  ]]]);
});

Deno.test("statefulMap maps each value as it arrives; outputs stay grouped by key, keys in first-arrival order", async () => {
  const calls: string[] = [];
  const out: [string, string][] = [];
  const flow = new Dataflow("test_df");
  flow.input(
    "inp",
    new TestingSource<[string, number]>(
      [["b", 1], ["a", 2], ["b", 0], ["c", 3], ["b", 4], ["a", 5], ["b", 6]],
      { batchSize: 7 },
    ),
  )
    .pipe(statefulMap("s", (sum: number | undefined, v: number): [number | undefined, string] => {
      calls.push(`${v}`);
      // 0 drops the state mid-activation: the next value starts again from undefined.
      const next = v === 0 ? undefined : (sum ?? 0) + v;
      return [next, `${sum ?? "-"}+${v}`];
    }))
    .output("out", new TestingSink(out));
  await runMain(flow);
  // One activation: the mapper runs in arrival order (no per-key values array is gathered)...
  assertEquals(calls, ["1", "2", "0", "3", "4", "5", "6"]);
  // ...and its outputs come grouped by key, in the keys' first-arrival order (b, a, c).
  assertEquals(out, [
    ["b", "-+1"],
    ["b", "1+0"],
    ["b", "-+4"],
    ["b", "4+6"],
    ["a", "-+2"],
    ["a", "2+5"],
    ["c", "-+3"],
  ]);
});

Deno.test("statefulMap: a mapper not returning a 2-element array fails naming step and key", async () => {
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource<[string, number]>([["k", 1]]))
    .pipe(statefulMap("s", () => 42 as unknown as [number, number]))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.s" for key "k": Mapper must return a 2-element array [updatedState, emit], got 42',
  );
  assertEquals([err.stepId, err.key], ["test_df.s", "k"]);
});

Deno.test("statefulMap: an exception in the mapper carries step, key and cause", async () => {
  const boom = new Error("boom");
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource<[string, number]>([["k", 1]]))
    .pipe(statefulMap("s", (): [number, number] => {
      throw boom;
    }))
    .output("out", new TestingSink([]));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertEquals([err.stepId, err.key, err.cause], ["test_df.s", "k", boom]);
});

Deno.test("statefulFlatMap: emits only values greater than the previous one", async () => {
  const out: [string, number][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([2, 5, 8, 1, 3]))
    .pipe(
      keyOn("key", () => "ALL"),
      statefulFlatMap("rise", (last: number | undefined, v: number): [number, number[]] => [
        v,
        last === undefined || v > last ? [v] : [],
      ]),
    )
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["ALL", 2], ["ALL", 5], ["ALL", 8], ["ALL", 3]]);
});

Deno.test("statefulFlatMap: [undefined, outputs] discards; generators are fine; bad shapes fail", async () => {
  const out: [string, string][] = [];
  const flow = new Dataflow("test_df");
  flow.input(
    "inp",
    new TestingSource<[string, string]>([["a", "x"], ["a", "y"], ["a", "end"], ["a", "z"]]),
  )
    .pipe(statefulFlatMap("s", (seen: string[] | undefined, v: string) => {
      const all = [...(seen ?? []), v];
      return [
        v === "end" ? undefined : all,
        (function* () {
          yield all.join("");
        })(),
      ];
    }))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", "x"], ["a", "xy"], ["a", "xyend"], ["a", "z"]]);

  const bad = new Dataflow("test_df");
  bad.input("inp", new TestingSource<[string, string]>([["k", "1"]]))
    .pipe(statefulFlatMap("s", () => [1, 2] as unknown as [number, number[]]))
    .output("out", new TestingSink([]));
  await assertRejects(() => runMain(bad), DataflowError, "with iterable outputs, got [1,2]");
});

Deno.test("statefulMap with init: first value and discarded keys start from init, also mid-batch", async () => {
  const out: [string, string][] = [];
  const flow = new Dataflow("test_df");
  // One batch of 5: a's state is discarded by its 0, so a's next value starts from init again.
  flow.input(
    "inp",
    new TestingSource([["a", 1], ["a", 0], ["b", 7], ["a", 5], ["a", 2]], { batchSize: 5 }),
  )
    .pipe(statefulMap("sum", (sum, v) => [v === 0 ? undefined : sum + v, `${sum}+${v}`], {
      init: 100,
    }))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", "100+1"], ["a", "101+0"], ["a", "100+5"], ["a", "105+2"], [
    "b",
    "100+7",
  ]]);
});

Deno.test("statefulMap with an init function: a fresh state per key, so mutation is not shared", async () => {
  const out: [string, number[]][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([["a", 1], ["b", 2], ["a", 3]]))
    .pipe(statefulMap("seen", (seen, v) => {
      seen.push(v);
      return [seen, [...seen]];
    }, { init: (): number[] => [] }))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", [1]], ["b", [2]], ["a", [1, 3]]]);
});

Deno.test("statefulMap: options that are not an object are a TypeError naming the step", () => {
  assertThrows(
    () => statefulMap("s", (s: number | undefined, v: number) => [s, v], null as never),
    TypeError,
    'statefulMap("s"): options must be an options object, got null',
  );
});

Deno.test("statefulFlatMap with init: new and discarded keys start from init", async () => {
  const out: [string, string][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([["a", 1], ["a", 0], ["a", 2], ["b", 3]], { batchSize: 4 }))
    .pipe(statefulFlatMap("s", (n, v) => [v === 0 ? null : n + v, [`${n}`, `${v}`]], {
      init: 10,
    }))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [
    ["a", "10"],
    ["a", "1"],
    ["a", "11"],
    ["a", "0"],
    ["a", "10"],
    ["a", "2"],
    ["b", "10"],
    ["b", "3"],
  ]);
  assertThrows(
    () => statefulFlatMap("f", (s: number | undefined, v: number) => [s, [v]], 5 as never),
    TypeError,
    'statefulFlatMap("f"): options must be an options object, got a number',
  );
});
