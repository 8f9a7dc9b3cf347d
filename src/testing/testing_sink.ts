/**
 * TestingSink: an output that appends every item to an array.
 *
 * @module
 */
import type { DynamicSink, StatelessSinkPartition } from "../io/outputs.ts";

/**
 * An output appending each item to `items`, in order. The array is never cleared, so runs of
 * the same flow accumulate into it.
 *
 * @example
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: string[] = [];
 * const flow = new Dataflow("sink_demo");
 * flow.input("inp", new TestingSource(["a", "b"])).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, ["a", "b"]);
 * ```
 */
export class TestingSink<T> implements DynamicSink<T> {
  /**
   * Appends every item the flow writes to `items`.
   *
   * @param items The array to append to.
   */
  constructor(readonly items: T[]) {}

  /**
   * With several workers, items are written on the main thread, into this `items` array:
   * each worker sends its batches there (they must be structured-cloneable).
   */
  readonly mainThread = true;

  /** Builds the writer (one per worker, all appending to the same array). */
  build(): StatelessSinkPartition<T> {
    const items = this.items;
    return {
      writeBatch(batch: T[]): void {
        for (let i = 0; i < batch.length; i++) items.push(batch[i]!);
      },
    };
  }
}
