// buildWorker: which steps fuse into one RxJS chain (no channel between them).
import { assertEquals } from "@std/assert";
import { map } from "rxjs";
import { countFinal, Dataflow, flatMap, step } from "../../mod.ts";
import { buildWorker } from "../../src/runtime/build.ts";
import { WorkerRuntime } from "../../src/runtime/worker_runtime.ts";
import { TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

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
