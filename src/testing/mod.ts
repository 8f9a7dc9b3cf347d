/**
 * weir's testing kit: in-memory sources and sinks, a controllable clock, and `runMain`.
 *
 * @example
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { map } from "rxjs";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("kit");
 * flow.input("inp", new TestingSource([1, 2])).pipe(map((x) => x + 1)).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [2, 3]);
 * ```
 *
 * @module
 */
export {
  TestingAbort,
  TestingEof,
  type TestingItem,
  type TestingMarker,
  TestingPause,
  TestingSource,
  type TestingSourceOptions,
} from "./testing_source.ts";
export { TestingSink } from "./testing_sink.ts";
export { TestClock, type TestClockOptions } from "./test_clock.ts";
export { runMain, type RunMainOptions } from "./run_main.ts";
