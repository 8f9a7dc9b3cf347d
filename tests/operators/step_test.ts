// step(): named groups of operators, their ids, and the ids their errors carry.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { filter, map, tap } from "rxjs";
import { Dataflow, DataflowError, inspect, keyOn, mapValue, step } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

/** Records the flow's steps as [id, kind, opType]. */
function shape(flow: Dataflow): [string, string, string][] {
  return flow.steps.map((s) => [s.id, s.kind, s.opType]);
}

Deno.test("step() of plain RxJS operators is one step carrying its name", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2, 3, 4]))
    .pipe(step("clean", filter((x: number) => x % 2 === 0), map((x) => x * 10)))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [20, 40]);
  assertEquals(shape(flow), [
    ["test_df.inp", "input", "input"],
    ["test_df.clean", "rx", "step"],
    ["test_df.out", "output", "output"],
  ]);
});

Deno.test("step() scopes weir operators as substeps, in order", async () => {
  const flow = new Dataflow("test_df");
  const seen: string[] = [];
  flow.input("inp", new TestingSource([1, 2]))
    .pipe(
      step("clean", map((x: number) => x * 10), tap((x) => seen.push(`t${x}`))),
      step("keyed", keyOn("key", String), inspect("look", (id) => seen.push(id))),
    )
    .output("out", new TestingSink([]));
  await runMain(flow);
  assertEquals(shape(flow), [
    ["test_df.inp", "input", "input"],
    ["test_df.clean", "rx", "step"],
    ["test_df.keyed", "scope", "step"],
    ["test_df.keyed.key", "chain", "keyOn"],
    ["test_df.keyed.look", "chain", "inspect"],
    ["test_df.out", "output", "output"],
  ]);
  assertEquals(seen, ["t10", "test_df.keyed.look", "t20", "test_df.keyed.look"]);
});

Deno.test("step() mixing plain and weir operators names the plain runs pipe_N inside it", async () => {
  const flow = new Dataflow("test_df");
  const out: [string, number][] = [];
  flow.input("inp", new TestingSource([1, 2]))
    .pipe(step(
      "s",
      map((x: number) => x + 1),
      keyOn("k", String),
      map(([k, v]: [string, number]) => [k, v * 2] as [string, number]),
    ))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["2", 4], ["3", 6]]);
  assertEquals(flow.steps.map((s) => s.id).slice(1, 5), [
    "test_df.s",
    "test_df.s.pipe_1",
    "test_df.s.k",
    "test_df.s.pipe_2",
  ]);
});

Deno.test("step() nests", async () => {
  const flow = new Dataflow("test_df");
  const out: [string, number][] = [];
  flow.input("inp", new TestingSource([1]))
    .pipe(step("outer", step("inner", map((x: number) => x + 1)), keyOn("k", String)))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["2", 2]]);
  assertEquals(shape(flow).slice(1, 4), [
    ["test_df.outer", "scope", "step"],
    ["test_df.outer.inner", "rx", "step"],
    ["test_df.outer.k", "chain", "keyOn"],
  ]);
});

Deno.test("step() with no operators is the identity", async () => {
  assertEquals(await through([1, 2], [step("nothing")]), [1, 2]);
});

Deno.test("step(): empty input, and many items", async () => {
  assertEquals(await through([], [step("s", map((x: number) => x + 1))]), []);
  const items = Array.from({ length: 500 }, (_, i) => i);
  assertEquals(
    await through(items, [step("s", map((x: number) => x + 1), keyOn("k", String))], {
      batchSize: 16,
    }),
    items.map((x) => [String(x + 1), x + 1]),
  );
});

Deno.test("errors inside step() name the step or the substep", async () => {
  const boom = new Error("x");
  const throws = map((x: number) => {
    if (x === 2) throw boom;
    return x;
  });
  const plain = await assertRejects(
    () => through([1, 2], [step("named", throws)]),
    DataflowError,
    'Step "test_df.named" failed: x',
  );
  assertStrictEquals(plain.cause, boom);
  const nested = await assertRejects(
    () => through([1, 2], [step("outer", step("inner", throws), keyOn("k", String))]),
    DataflowError,
    'Step "test_df.outer.inner" failed: x',
  );
  assertStrictEquals(nested.cause, boom);
  const keyed = await assertRejects(
    () =>
      through([1, 2], [step(
        "s",
        keyOn("k", String),
        mapValue("m", (v: number) => {
          if (v === 2) throw boom;
          return v;
        }),
      )]),
    DataflowError,
    'Step "test_df.s.m" for key "2" failed: x',
  );
  assertEquals([keyed.stepId, keyed.key], ["test_df.s.m", "2"]);
  const afterWeir = await assertRejects(
    () => through([1, 2], [step("s", keyOn("k", String), map(([, v]) => v), throws)]),
    DataflowError,
    'Step "test_df.s.pipe_1" failed: x',
  );
  assertStrictEquals(afterWeir.cause, boom);
});

Deno.test("step ids inside a step are scoped: the same name may repeat at another level", () => {
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1]))
    .pipe(keyOn("k", String), step("s", keyOn("k", String)))
    .output("out", new TestingSink([]));
  assertEquals(flow.steps.map((s) => s.id), [
    "test_df.inp",
    "test_df.k",
    "test_df.s",
    "test_df.s.k",
    "test_df.out",
  ]);
  const dup = new Dataflow("test_df");
  assertThrows(
    () =>
      dup.input("inp", new TestingSource([1])).pipe(
        step("s", keyOn("k", String), keyOn("k", String)),
      ),
    RangeError,
    'Step "test_df.s.k" already exists; do you have two steps with the same id?',
  );
});

Deno.test("step validates its id; used outside a flow it explains itself", () => {
  assertThrows(() => step("a.b"), RangeError, `Step id "a.b" can't contain a period`);
  assertThrows(
    () => step(3 as unknown as string),
    TypeError,
    "Step id must be a string, got a number",
  );
  assertThrows(
    () => step("s", map((x: number) => x))(null as never),
    TypeError,
    'step("s") is a weir step: use it inside Stream.pipe() of a Dataflow',
  );
});
