/**
 * mapAsync: asynchronous, bounded, order-preserving map.
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
import { checkFunction } from "./_chain.ts";

/** Options of {@linkcode mapAsync}. */
export interface MapAsyncOptions {
  /** How many calls may be in flight at once (default 16). */
  readonly concurrency?: number;
  /**
   * How many items may wait in the step (in flight, queued, or done but held for order)
   * before the scheduler stops reading inputs (default max(64, 4 × concurrency)).
   */
  readonly maxBuffered?: number;
}

/**
 * Maps each item with an async function, up to `concurrency` calls at once, and emits the
 * results in input order (so per-key order holds too). The scheduler tracks the step: epochs
 * and EOF wait for every call in flight, and inputs pause while `maxBuffered` items wait.
 * A rejected call fails the run naming the step. This is the way to do I/O per item; RxJS
 * operators that go asynchronous (`mergeMap` over promises, `delay`) are not valid steps.
 * Bytewax has no equivalent (bytewax#545).
 *
 * @param stepId The step's name.
 * @param fn Maps one item; may return a Promise.
 * @param options Concurrency and buffering.
 *
 * @example
 * ```ts
 * import { Dataflow, mapAsync } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const lookup = (id: number) =>
 *   new Promise<string>((resolve) => setTimeout(() => resolve(`user${id}`), 5 - id));
 * const out: string[] = [];
 * const flow = new Dataflow("map_async_demo");
 * flow.input("inp", new TestingSource([1, 2, 3], { batchSize: 3 }))
 *   .pipe(mapAsync("lookup", lookup, { concurrency: 3 }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, ["user1", "user2", "user3"]); // input order, though 3 resolved first
 * ```
 */
export function mapAsync<T, U>(
  stepId: string,
  fn: (item: T) => U | PromiseLike<U>,
  options: MapAsyncOptions = {},
): WeirOperator<T, U> {
  checkStepId(stepId);
  checkFunction("mapAsync", stepId, "a mapper", fn);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `mapAsync("${stepId}") needs a positive integer concurrency, got ${concurrency}`,
    );
  }
  const maxBuffered = options.maxBuffered ?? Math.max(64, 4 * concurrency);
  if (!Number.isInteger(maxBuffered) || maxBuffered < 1) {
    throw new RangeError(
      `mapAsync("${stepId}") needs a positive integer maxBuffered, got ${maxBuffered}`,
    );
  }
  return weirOperator<T, U>({
    kind: "node",
    name: stepId,
    opType: "mapAsync",
    build: (ctx, down) =>
      new MapAsyncNode(ctx, down as Downstream<U>, fn, concurrency, maxBuffered) as RuntimeNode<
        unknown
      >,
  });
}

interface Slot<U> {
  done: boolean;
  value: U | undefined;
}

class MapAsyncNode<T, U> implements RuntimeNode<T> {
  /** Started calls in input order; `head` is the next to emit. */
  private slots: Slot<U>[] = [];
  private head = 0;
  private waiting: T[] = [];
  private waitingHead = 0;
  private inFlight = 0;
  private upstreamDone = false;
  private completed = false;

  constructor(
    private readonly ctx: StepContext,
    private readonly down: Downstream<U>,
    private readonly fn: (item: T) => U | PromiseLike<U>,
    private readonly concurrency: number,
    private readonly maxBuffered: number,
  ) {}

  next(item: T): void {
    if (this.inFlight < this.concurrency) this.start(item);
    else this.waiting.push(item);
  }

  complete(): void {
    this.upstreamDone = true;
  }

  private start(item: T): void {
    const slot: Slot<U> = { done: false, value: undefined };
    this.slots.push(slot);
    this.inFlight++;
    let result;
    try {
      result = this.fn(item);
    } catch (err) {
      this.ctx.fail(err);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        slot.done = true;
        slot.value = value;
        this.inFlight--;
        this.startWaiting();
        this.ctx.wake();
      },
      (err) => this.ctx.fail(err),
    );
  }

  private startWaiting(): void {
    while (this.inFlight < this.concurrency && this.waitingHead < this.waiting.length) {
      const item = this.waiting[this.waitingHead]!;
      this.waiting[this.waitingHead++] = undefined as T;
      this.start(item);
    }
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    }
  }

  flush(): void {
    const slots = this.slots;
    let h = this.head;
    while (h < slots.length && slots[h]!.done) {
      const v = slots[h]!.value as U;
      slots[h++] = undefined as unknown as Slot<U>;
      this.down.next(v);
    }
    if (h === slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (h > 1024 && h * 2 > slots.length) {
      this.slots = slots.slice(h);
      this.head = 0;
    } else {
      this.head = h;
    }
    if (this.upstreamDone && !this.completed && this.pending() === 0) {
      this.completed = true;
      this.down.complete();
    }
  }

  pending(): number {
    return this.slots.length - this.head + this.waiting.length - this.waitingHead;
  }

  isFull(): boolean {
    return this.pending() >= this.maxBuffered;
  }
}
