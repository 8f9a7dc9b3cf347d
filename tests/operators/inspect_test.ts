// inspect and inspectDebug: Bytewax's test_inspect.py plus defaults, epochs and errors.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { map } from "rxjs";
import { Dataflow, DataflowError, inspect, inspectDebug, step } from "../../mod.ts";
import { runMain, TestClock, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

/** Runs `fn` with console.log captured; returns the logged argument lists. */
async function capturingLog(fn: () => Promise<unknown>): Promise<unknown[][]> {
  const lines: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args);
  try {
    await fn();
  } finally {
    console.log = original;
  }
  return lines;
}

Deno.test("inspect sees the fully qualified step id; a flow with only inspect is valid (Bytewax's case)", async () => {
  const seen: [string, unknown][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(["a"])).pipe(
    inspect("insp", (id, item) => seen.push([id, item])),
  );
  assertEquals(await runMain(flow), { status: "eof", epoch: 1 });
  assertEquals(seen, [["test_df.insp", "a"]]);
});

Deno.test("inspect passes items on unchanged to a following output (Bytewax's case)", async () => {
  const seen: [string, unknown][] = [];
  assertEquals(await through(["a"], [inspect("insp", (id, item) => seen.push([id, item]))]), ["a"]);
  assertEquals(seen, [["test_df.insp", "a"]]);
});

Deno.test("inspect: empty input never calls the inspector", async () => {
  let calls = 0;
  assertEquals(await through([], [inspect("insp", () => calls++)]), []);
  assertEquals(calls, 0);
});

Deno.test("inspect sees many items in order, before the next step", async () => {
  const log: string[] = [];
  const items = Array.from({ length: 50 }, (_, i) => i);
  const out = await through(items, [
    inspect("before", (_id, x: number) => log.push(`i${x}`)),
    map((x: number) => (log.push(`m${x}`), x)),
  ], { batchSize: 8 });
  assertEquals(out, items);
  assertEquals(log, items.flatMap((x) => [`i${x}`, `m${x}`]));
});

Deno.test("inspect inside a step() reports the nested id", async () => {
  const ids: string[] = [];
  await through([1], [step("outer", inspect("insp", (id) => ids.push(id)))]);
  assertEquals(ids, ["test_df.outer.insp"]);
});

Deno.test("the default inspectors print '<step id>: <item>' and '<step id> W<worker> @<epoch>: <item>'", async () => {
  const lines = await capturingLog(() => through(["a", 1], [inspect("insp"), inspectDebug("dbg")]));
  assertEquals(lines, [
    ["test_df.insp:", "a"],
    ["test_df.dbg W0 @1:", "a"],
    ["test_df.insp:", 1],
    ["test_df.dbg W0 @1:", 1],
  ]);
});

Deno.test("inspectDebug sees epoch 1 and worker 0 (Bytewax's case)", async () => {
  const seen: unknown[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(["a"])).pipe(
    inspectDebug("insp", (id, item, epoch, worker) => seen.push([id, item, epoch, worker])),
  );
  await runMain(flow);
  assertEquals(seen, [["test_df.insp", "a", 1, 0]]);
});

Deno.test("inspectDebug sees the epoch advance", async () => {
  const seen: [string, number][] = [];
  // a at t=1, b at t=1 001, c at t=2 001: one in each 1 s epoch.
  await through([
    TestingSource.PAUSE(1),
    "a",
    TestingSource.PAUSE(1_000),
    "b",
    TestingSource.PAUSE(1_000),
    "c",
  ], [
    inspectDebug("dbg", (_id, item: string, epoch) => seen.push([item, epoch])),
  ], { clock: new TestClock({ start: 0 }), epochInterval: 1_000 });
  assertEquals(seen, [["a", 1], ["b", 2], ["c", 3]]);
});

Deno.test("an inspector that throws fails the run naming the step, with the cause", async () => {
  const boom = new Error("nope");
  const err = await assertRejects(
    () =>
      through([1], [inspect("insp", () => {
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.insp" failed: nope',
  );
  assertEquals(err.stepId, "test_df.insp");
  assertStrictEquals(err.cause, boom);
  const dbg = await assertRejects(
    () =>
      through([1], [inspectDebug("dbg", () => {
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.dbg" failed: nope',
  );
  assertStrictEquals(dbg.cause, boom);
});

Deno.test("a flow whose only output is inspectDebug is valid", async () => {
  const seen: unknown[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2])).pipe(inspectDebug("dbg", (_id, x) => seen.push(x)));
  await runMain(flow);
  assertEquals(seen, [1, 2]);
});

Deno.test("inspect and inspectDebug validate their inspector at definition time", () => {
  assertThrows(
    () => inspect("i", 3 as never),
    TypeError,
    'inspect("i") needs an inspector function, got a number',
  );
  assertThrows(
    () => inspectDebug("d", "x" as never),
    TypeError,
    'inspectDebug("d") needs an inspector function, got a string',
  );
});
