// inspect, inspectDebug, raises, enrichCached (+ TTLCache), flatMapBatch, step.
import { assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { map, tap } from "rxjs";
import {
  Dataflow,
  DataflowError,
  enrichCached,
  flatMapBatch,
  inspect,
  inspectDebug,
  keyOn,
  raises,
  step,
  TTLCache,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { failure, through } from "./_util.ts";

Deno.test("inspect sees the fully qualified step id; a flow with only inspect is valid", async () => {
  const seen: [string, unknown][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(["a"])).pipe(
    inspect("insp", (id, item) => seen.push([id, item])),
  );
  await runMain(flow);
  assertEquals(seen, [["test_df.insp", "a"]]);
});

Deno.test("inspect passes items on unchanged", async () => {
  const seen: [string, unknown][] = [];
  assertEquals(await through(["a"], [inspect("insp", (id, item) => seen.push([id, item]))]), ["a"]);
  assertEquals(seen, [["test_df.insp", "a"]]);
});

Deno.test("inspect's default prints '<step id>: <item>'", async () => {
  const lines: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args);
  try {
    await through(["a", 1], [inspect("insp"), inspectDebug("dbg")]);
  } finally {
    console.log = original;
  }
  assertEquals(lines, [["test_df.insp:", "a"], ["test_df.dbg W0 @1:", "a"], ["test_df.insp:", 1], [
    "test_df.dbg W0 @1:",
    1,
  ]]);
});

Deno.test("inspectDebug sees epoch and worker index", async () => {
  const seen: unknown[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(["a"])).pipe(
    inspectDebug("insp", (id, item, epoch, worker) => seen.push([id, item, epoch, worker])),
  );
  await runMain(flow);
  assertEquals(seen, [["test_df.insp", "a", 1, 0]]);
});

Deno.test("an inspector that throws fails the run naming the step", async () => {
  const boom = new Error("nope");
  const err = await failure([1], [inspect("insp", () => {
    throw boom;
  })]);
  assertEquals(err.stepId, "test_df.insp");
  assertStrictEquals(err.cause, boom);
});

Deno.test("raises fails on the first item; fewer items than the input reached the sink", async () => {
  const flow = new Dataflow("test_df");
  const out: number[] = [];
  const s = flow.input("inp", new TestingSource([0, 1, 2]));
  s.output("out", new TestingSink(out));
  s.pipe(raises("boom"));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    "`raises` step got an item: 0",
  );
  assertEquals(err.stepId, "test_df.boom");
  assertEquals(out.length < 3, true);
});

Deno.test("TTLCache: caches, ignores a changed source until the TTL passed, and evicts", () => {
  let now = 0;
  const source: Record<string, number> = { a: 1 };
  let calls = 0;
  const cache = new TTLCache((k: string) => (calls++, source[k]!), () => now, 60_000);
  assertEquals(cache.get("a"), 1);
  delete source.a; // like Bytewax's getter that removes the entry: still served from cache
  source.a = 3;
  assertEquals(cache.get("a"), 1);
  assertEquals(calls, 1);
  now += 120_000;
  assertEquals(cache.get("a"), 3);
  assertEquals(calls, 2);
  source.a = 4;
  cache.remove("a");
  assertEquals(cache.get("a"), 4);
});

Deno.test("enrichCached: looks up through the cache (Bytewax's case)", async () => {
  const table: Record<string, number> = { a: 1, b: 2 };
  let lookups = 0;
  const out = await through(["a", "b", "a"], [
    enrichCached(
      "enrich",
      (k: string) => (lookups++, table[k]!),
      (cache, item: string) => cache.get(item),
    ),
  ]);
  assertEquals(out, [1, 2, 1]);
  assertEquals(lookups, 2);
});

Deno.test("enrichCached: the TTL follows the run's clock", async () => {
  let version = 1;
  const out = await through(
    ["k", TestingSource.PAUSE(30_000), "k", TestingSource.PAUSE(40_000), "k"],
    [enrichCached("enrich", () => version++, (cache, item: string) => cache.get(item), {
      ttl: 60_000,
    })],
    { clock: new TestClock({ start: 0 }) },
  );
  assertEquals(out, [1, 1, 2]);
});

Deno.test("flatMapBatch sees each activation's batch (Bytewax's case)", async () => {
  const out = await through(["split this", "and this"], [
    flatMapBatch("split", (lines: string[]) => lines.flatMap((l) => l.split(" "))),
  ], { batchSize: 10 });
  assertEquals(out, ["split", "this", "and", "this"]);
});

Deno.test("flatMapBatch keeps order over many batches and fails on a non-iterable", async () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);
  assertEquals(
    await through(items, [flatMapBatch("id", (b: number[]) => b)], { batchSize: 10 }),
    items,
  );
  const sizes = await through(items.slice(0, 25), [
    map((x: number) => x),
    flatMapBatch("sizes", (b: number[]) => [b.length]),
  ], { batchSize: 10 });
  assertEquals(sizes, [10, 10, 5]);
  const err = await failure([1], [flatMapBatch("bad", () => 3 as unknown as number[])]);
  assertEquals([err.stepId, err.message.includes("Mapper must return an iterable, got 3")], [
    "test_df.bad",
    true,
  ]);
});

Deno.test("step() names plain RxJS runs and scopes weir operators", async () => {
  const flow = new Dataflow("test_df");
  const seen: string[] = [];
  flow.input("inp", new TestingSource([1, 2]))
    .pipe(
      step("clean", map((x: number) => x * 10), tap((x) => seen.push(`t${x}`))),
      step("keyed", keyOn("key", String), inspect("look", (id) => seen.push(id))),
    )
    .output("out", new TestingSink([]));
  await runMain(flow);
  assertEquals(flow.steps.map((s) => [s.id, s.opType]), [
    ["test_df.inp", "input"],
    ["test_df.clean", "step"],
    ["test_df.keyed", "step"],
    ["test_df.keyed.key", "keyOn"],
    ["test_df.keyed.look", "inspect"],
    ["test_df.out", "output"],
  ]);
  assertEquals(seen, ["t10", "test_df.keyed.look", "t20", "test_df.keyed.look"]);
  const err = await failure([1], [step(
    "named",
    map(() => {
      throw new Error("x");
    }),
  )]);
  assertEquals(err.stepId, "test_df.named");
});
