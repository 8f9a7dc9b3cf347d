// Bytewax's test_stateful.py cases 1–4 and 7 (the recovery cases 5, 6, 8, 9 come with the
// recovery issue), on weir's `stateful`.
import { assertEquals, assertRejects } from "@std/assert";
import { Dataflow, DataflowError, keyOn } from "../../mod.ts";
import { stateful, type StatefulLogic } from "../../src/operators/stateful.ts";
import { DISCARD, type LogicResult, RETAIN } from "../../src/operators/stateful_batch.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

type Transition = [string, [string, string]];

interface Flags {
  readonly discardAfterItem?: boolean;
  readonly notifyOnItem?: boolean;
  readonly discardAfterNotify?: boolean;
}

/** Records (old state, new state) transitions, like Bytewax's test logic. */
function transitions(items: number[], flags: Flags): Promise<Transition[]> {
  const out: Transition[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(items))
    .pipe(
      keyOn("key", () => "ALL"),
      stateful(
        "stateful",
        (resume: string | undefined, ctx): StatefulLogic<number, [string, string], string> => {
          let state = resume ?? "NEW";
          let at: number | undefined;
          const move = (to: string, discard: boolean): LogicResult<[string, string]> => {
            const t: [string, string] = [state, to];
            state = to;
            return [[t], discard];
          };
          return {
            onItem() {
              if (flags.notifyOnItem) at = ctx.now();
              return move("ITEM", flags.discardAfterItem ?? false);
            },
            onNotify() {
              at = undefined;
              return move("NOTIFY", flags.discardAfterNotify ?? false);
            },
            notifyAt: () => at,
            snapshot: () => state,
          };
        },
      ),
    )
    .output("out", new TestingSink(out));
  return runMain(flow, { clock: new TestClock(), epochInterval: 0 }).then(() => out);
}

Deno.test("stateful: discard after item", async () => {
  assertEquals(await transitions([1, 2], { discardAfterItem: true }), [
    ["ALL", ["NEW", "ITEM"]],
    ["ALL", ["NEW", "ITEM"]],
  ]);
});

Deno.test("stateful: retain after item", async () => {
  assertEquals(await transitions([1, 2], {}), [
    ["ALL", ["NEW", "ITEM"]],
    ["ALL", ["ITEM", "ITEM"]],
  ]);
});

Deno.test("stateful: item schedules a notification, discard after notify", async () => {
  assertEquals(await transitions([1, 2], { notifyOnItem: true, discardAfterNotify: true }), [
    ["ALL", ["NEW", "ITEM"]],
    ["ALL", ["ITEM", "NOTIFY"]],
    ["ALL", ["NEW", "ITEM"]],
    ["ALL", ["ITEM", "NOTIFY"]],
  ]);
});

Deno.test("stateful: item schedules a notification, retain after notify", async () => {
  assertEquals(await transitions([1, 2], { notifyOnItem: true }), [
    ["ALL", ["NEW", "ITEM"]],
    ["ALL", ["ITEM", "NOTIFY"]],
    ["ALL", ["NOTIFY", "ITEM"]],
    ["ALL", ["ITEM", "NOTIFY"]],
  ]);
});

Deno.test("stateful: keep-last logic on pre-keyed input", async () => {
  const out: [string, [string | undefined, string]][] = [];
  const flow = new Dataflow("test_df");
  flow.input(
    "inp",
    new TestingSource<[string, string]>([["a", "a1"], ["b", "b1"], ["a", "a2"], ["b", "b2"]]),
  ).pipe(
    stateful<string, [string | undefined, string], string | undefined>("keep_last", (resume) => {
      let last = resume;
      return {
        onItem(v: string): LogicResult<[string | undefined, string]> {
          const o: [string | undefined, string] = [last, v];
          last = v;
          return [[o], v === "DISCARD" ? DISCARD : RETAIN];
        },
        snapshot: () => last,
      };
    }),
  ).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", [undefined, "a1"]], ["b", [undefined, "b1"]], ["a", ["a1", "a2"]], [
    "b",
    ["b1", "b2"],
  ]]);
});

Deno.test("stateful: discard in the middle of an activation's values gives the next value a fresh logic", async () => {
  const out: [string, string][] = [];
  const flow = new Dataflow("test_df");
  flow.input(
    "inp",
    new TestingSource<[string, string]>([["a", "x"], ["a", "DISCARD"], ["a", "y"]], {
      batchSize: 3,
    }),
  ).pipe(stateful("s", (resume: string[] | undefined) => {
    const seen = resume ?? [];
    return {
      onItem(v: string): LogicResult<string> {
        seen.push(v);
        return [[seen.join("+")], v === "DISCARD" ? DISCARD : RETAIN];
      },
      snapshot: () => seen,
    };
  })).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", "x"], ["a", "x+DISCARD"], ["a", "y"]]);
});

Deno.test("stateful: onEof output and a malformed onItem result", async () => {
  const out: [string, string][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource<[string, string]>([["b", "1"], ["a", "2"]]))
    .pipe(stateful("s", () => ({
      onItem: (): LogicResult<string> => [[], RETAIN],
      onEof: (): LogicResult<string> => [["eof"], DISCARD],
      snapshot: () => 0,
    }))).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", "eof"], ["b", "eof"]]);

  const bad = new Dataflow("test_df");
  bad.input("inp", new TestingSource<[string, string]>([["k", "1"]]))
    .pipe(stateful("s", () => ({
      onItem: () => "oops" as unknown as LogicResult<string>,
      snapshot: () => 0,
    }))).output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(bad),
    DataflowError,
    "onItem must return [outputs, discard]",
  );
  assertEquals([err.stepId, err.key], ["test_df.s", "k"]);
});
