import { assertEquals, assertStrictEquals } from "@std/assert";
import { Dataflow } from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("TestingSink appends every item in order, batch after batch", async () => {
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1, 2, 3, 4, 5], { batchSize: 2 }))
    .output("out", new TestingSink(out));
  await runMain(flow, { clock: new TestClock() });
  assertEquals(out, [1, 2, 3, 4, 5]);
});

Deno.test("TestingSink exposes the array it appends to", () => {
  const out: string[] = ["already"];
  const sink = new TestingSink(out);
  assertStrictEquals(sink.items, out);
  sink.build().writeBatch(["x", "y"]);
  assertEquals(out, ["already", "x", "y"]);
});

Deno.test("TestingSink accumulates across runs of the same flow", async () => {
  const out: string[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource(["a", "b"])).output("out", new TestingSink(out));
  await runMain(flow, { clock: new TestClock() });
  assertEquals(out, ["a", "b"]);
  await runMain(flow, { clock: new TestClock() });
  assertEquals(out, ["a", "b", "a", "b"]);
});

Deno.test("TestingSink writers built for several outputs share nothing but their arrays", async () => {
  const evens: number[] = [];
  const odds: number[] = [];
  const flow = new Dataflow("f");
  const { trues, falses } = flow.input("inp", new TestingSource([1, 2, 3, 4]))
    .branch("parity", (x) => x % 2 === 0);
  trues.output("evens", new TestingSink(evens));
  falses.output("odds", new TestingSink(odds));
  await runMain(flow, { clock: new TestClock() });
  assertEquals([evens, odds], [[2, 4], [1, 3]]);
});

Deno.test("two TestingSinks on the same array interleave in write order", async () => {
  const out: string[] = [];
  const flow = new Dataflow("f");
  const inp = flow.input("inp", new TestingSource(["x", "y"]));
  inp.output("first", new TestingSink(out));
  inp.output("second", new TestingSink(out));
  await runMain(flow, { clock: new TestClock() });
  assertEquals(out, ["x", "x", "y", "y"]);
});
