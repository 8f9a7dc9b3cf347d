/**
 * flatMapBatch: maps whole runtime batches.
 *
 * @module
 */
import { checkStepId } from "../dataflow/step_id.ts";
import {
  type Downstream,
  type RuntimeNode,
  type StepContext,
  type WeirOperator,
  weirOperator,
} from "../dataflow/op.ts";
import { checkFunction, isIterable } from "./_chain.ts";
import { notIterable } from "./flat_map.ts";

/**
 * Calls `mapper(batch)` once per activation with every item that reached the step in it, and
 * emits each element of the returned iterable. The batch is what the scheduler had: a source
 * batch, or what upstream steps made of it. Use it to amortize per-call costs (vectorized
 * math, one lookup for many keys). Like Bytewax's `flat_map_batch`, the core of its stateless
 * operators.
 *
 * @param stepId The step's name.
 * @param mapper Maps a non-empty batch to an iterable of outputs.
 *
 * @example
 * ```ts
 * import { Dataflow, flatMapBatch } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const sizes: number[] = [];
 * const flow = new Dataflow("batch_demo");
 * flow.input("inp", new TestingSource([1, 2, 3, 4, 5], { batchSize: 2 }))
 *   .pipe(flatMapBatch("sizes", (batch: number[]) => [batch.length]))
 *   .output("out", new TestingSink(sizes));
 * await runMain(flow);
 * assertEquals(sizes, [2, 2, 1]);
 * ```
 */
export function flatMapBatch<T, U>(
  stepId: string,
  mapper: (batch: T[]) => Iterable<U>,
): WeirOperator<T, U> {
  checkStepId(stepId);
  checkFunction("flatMapBatch", stepId, "a mapper", mapper);
  return weirOperator<T, U>({
    kind: "node",
    name: stepId,
    opType: "flatMapBatch",
    build: (ctx, down) =>
      new FlatMapBatchNode(ctx, down as Downstream<U>, mapper) as RuntimeNode<unknown>,
  });
}

class FlatMapBatchNode<T, U> implements RuntimeNode<T> {
  private buf: T[] = [];
  private upstreamDone = false;
  private completed = false;

  constructor(
    private readonly ctx: StepContext,
    private readonly down: Downstream<U>,
    private readonly mapper: (batch: T[]) => Iterable<U>,
  ) {}

  next(item: T): void {
    this.buf.push(item);
  }

  complete(): void {
    this.upstreamDone = true;
  }

  flush(): void {
    if (this.buf.length > 0) {
      const batch = this.buf;
      this.buf = [];
      let out: Iterable<U>;
      try {
        out = this.mapper(batch);
        if (!isIterable(out)) {
          throw notIterable(this.ctx.stepId, "Mapper must return an iterable", out);
        }
        if (Array.isArray(out)) {
          for (let i = 0; i < out.length; i++) this.down.next(out[i]);
        } else {
          for (const x of out) this.down.next(x);
        }
      } catch (err) {
        this.ctx.fail(err);
        return;
      }
    }
    if (this.upstreamDone && !this.completed) {
      this.completed = true;
      this.down.complete();
    }
  }
}
