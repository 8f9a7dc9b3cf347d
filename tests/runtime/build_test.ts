// buildWorker: which steps fuse into one RxJS chain (no channel between them).
import { assertEquals, assertRejects } from "@std/assert";
import { map } from "rxjs";
import {
  countFinal,
  Dataflow,
  DataflowError,
  flatMap,
  keyOn,
  statefulMap,
  step,
} from "../../mod.ts";
import { buildWorker } from "../../src/runtime/build.ts";
import { WorkerRuntime } from "../../src/runtime/worker_runtime.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** The stream ids that end in a channel (a stream fused into a chain has none). */
function channelStreams(flow: Dataflow): string[] {
  return [...buildWorker(flow, new WorkerRuntime(new TestClock(), 0, 1)).streams.keys()];
}

Deno.test("a stream read by a step() scope fuses into the scope's first substep", () => {
  const flow = new Dataflow("wc");
  flow.input("inp", new TestingSource(["a b", "b"]))
    .pipe(flatMap("split", (line: string) => line.split(" ")), countFinal("count", (w) => w))
    .output("out", new TestingSink([]));
  // split → count.key (keyOn) is one chain: no channel on split's output.
  assertEquals(channelStreams(flow), ["wc.inp.down", "wc.count.key.down", "wc.count.count.down"]);
});

Deno.test("a stream read by a step() scope of plain RxJS and weir steps fuses too", () => {
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1, 2]))
    .pipe(
      map((x: number) => x + 1),
      step("s", map((x: number) => x * 2), flatMap("dup", (x: number) => [x, x])),
    )
    .output("out", new TestingSink([]));
  assertEquals(channelStreams(flow), ["f.inp.down", "f.s.dup.down"]);
});

Deno.test("a keyOn that ends a chain before a keyed step is not applied: its stream keys the items", () => {
  const flow = new Dataflow("wc");
  flow.input("inp", new TestingSource(["a b", "b"]))
    .pipe(flatMap("split", (line: string) => line.split(" ")), countFinal("count", (w) => w))
    .output("out", new TestingSink([]));
  const streams = buildWorker(flow, new WorkerRuntime(new TestClock(), 0, 1)).streams;
  // The keyed node gets (key, word) from this channel: no [key, word] pair, no keyOn subscriber.
  assertEquals(streams.get("wc.count.key.down")?.constructor.name, "KeyingChannel");
  assertEquals(streams.get("wc.inp.down")?.constructor.name, "Channel");
});

Deno.test("a keying stream keeps keyOn's errors: a bad key names keyOn, an upstream error its step", async () => {
  const bad = new Dataflow("f");
  bad.input("inp", new TestingSource([1, 2]))
    .pipe(countFinal("count", (x: number) => (x === 2 ? 2 : "one") as string))
    .output("out", new TestingSink([]));
  const err = await assertRejects(() => runMain(bad), DataflowError);
  assertEquals(
    err.message,
    'Step "f.count.key": Key function must return a string, got number 2: Key of 2 is not a string',
  );
  assertEquals(err.stepId, "f.count.key");

  const boom = new Error("boom");
  const up = new Dataflow("g");
  up.input("inp", new TestingSource([1, 2]))
    .pipe(
      map((x: number) => {
        if (x === 2) throw boom;
        return x;
      }),
      keyOn("key", (x: number) => `${x}`),
      statefulMap("sum", (s: number | undefined, x: number): [number, number] => [x, s ?? 0]),
    )
    .output("out", new TestingSink([]));
  const err2 = await assertRejects(() => runMain(up), DataflowError);
  assertEquals([err2.stepId, err2.cause], ["g.pipe_1", boom]);
});

Deno.test("a keying stream with other consumers than a keyed step gives them [key, item] pairs", async () => {
  const out: unknown[] = [];
  const sums: unknown[] = [];
  const flow = new Dataflow("f");
  const keyed = flow.input("inp", new TestingSource(["a", "bb", "a"]))
    .pipe(keyOn("key", (w: string) => w));
  keyed.output("pairs", new TestingSink(out));
  keyed.pipe(countFinal("count", ([k]: [string, string]) => k)).output(
    "out",
    new TestingSink(sums),
  );
  await runMain(flow);
  assertEquals(out, [["a", "a"], ["bb", "bb"], ["a", "a"]]);
  assertEquals(sums, [["a", 2], ["bb", 1]]);
});
