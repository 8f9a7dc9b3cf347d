// raises: Bytewax's test_raises.py plus empty streams and validation.
import { assertEquals, assertLess, assertRejects, assertThrows } from "@std/assert";
import { Dataflow, DataflowError, raises } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("raises fails on the first item; fewer items than the input reached the sink (Bytewax's case)", async () => {
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
  assertEquals(err.message, 'Step "test_df.boom": `raises` step got an item: 0');
  assertEquals([err.stepId, err.key, err.cause], ["test_df.boom", undefined, undefined]);
  assertLess(out.length, 3);
});

Deno.test("raises previews the item as JSON", async () => {
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([{ bad: "row" }])).pipe(raises("boom"));
  await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.boom": `raises` step got an item: {"bad":"row"}',
  );
});

Deno.test("raises on an empty stream lets the run finish; it counts as an output", async () => {
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource<number>([])).pipe(raises("never"));
  assertEquals(await runMain(flow), { status: "eof", epoch: 1 });
});

Deno.test("raises guards the error branch of a parser: only bad items fail the run", async () => {
  const good: string[] = [];
  const build = (items: string[]) => {
    const flow = new Dataflow("test_df");
    const { trues, falses } = flow.input("inp", new TestingSource(items))
      .branch("is_num", (s) => /^\d+$/.test(s));
    trues.output("good", new TestingSink(good));
    falses.pipe(raises("bad_rows"));
    return flow;
  };
  await runMain(build(["1", "2"]));
  assertEquals(good, ["1", "2"]);
  const err = await assertRejects(
    () => runMain(build(["3", "x", "4"])),
    DataflowError,
    '`raises` step got an item: "x"',
  );
  assertEquals(err.stepId, "test_df.bad_rows");
  assertEquals(good, ["1", "2", "3"]);
});

Deno.test("raises validates its step id", () => {
  assertThrows(
    () => raises(5 as unknown as string),
    TypeError,
    "Step id must be a string, got a number",
  );
});
