/**
 * A stream inside one worker: fans each item out to every consumer, in registration order.
 *
 * A Channel is shaped like an RxJS Subscriber (next/error/complete plus add/remove/
 * unsubscribe/closed), so `observable.subscribe(channel)` uses it directly instead of wrapping
 * it: the last operator of a fused chain calls `channel.next` with no intermediate objects.
 *
 * @module
 */
import { attributeError, type DataflowError } from "../errors.ts";
import type { Downstream } from "../dataflow/op.ts";

/**
 * What a channel needs of its worker's runtime (`WorkerRuntime` is one): the activation flag
 * and failure reporting. Declared here, not imported, so that `exchange.ts` can build channels
 * without an import cycle through `worker_runtime.ts`.
 */
export interface ChannelRuntime {
  /** True while a step of this worker is being activated. */
  readonly inActivation: boolean;
  /** Reports an emission made outside any activation (a step's bug). */
  emittedOutsideActivation(stepId: string): void;
  /** Fails the run with `err`. */
  fail(error: DataflowError): void;
}

/** Something a channel feeds: a chain head (an RxJS subscriber), a node, a sink buffer. */
export type Consumer<T> = Downstream<T>;

/** One stream of one worker. */
export class Channel<T> implements Downstream<T> {
  /** RxJS Subscription shape; true once completed or torn down. */
  closed = false;
  private consumers: Consumer<T>[] = [];
  private only: Consumer<T> | undefined = undefined;
  private openProducers: number;
  private readonly teardowns: Array<{ unsubscribe(): void } | (() => void)> = [];
  /** Items pushed so far; counted only after {@linkcode Channel.countItems}. */
  items = 0;

  /**
   * @param stepId The step producing this stream (errors reaching the channel are its own).
   * @param rt The worker runtime (activation flag, failure reporting).
   * @param producers How many upstreams must complete before this stream completes (merge).
   */
  constructor(
    readonly stepId: string,
    private readonly rt: ChannelRuntime,
    producers = 1,
  ) {
    this.openProducers = producers;
  }

  /** Adds a consumer; it receives every later item. */
  addConsumer(consumer: Consumer<T>): void {
    this.consumers.push(consumer);
    this.only = this.consumers.length === 1 ? consumer : undefined;
  }

  /**
   * Removes a consumer (an RxJS chain unsubscribing, e.g. after `take`). This can happen
   * inside `next`, while the consumers are iterated: the list is replaced, not spliced, so
   * the consumers after the removed one still receive the current item.
   */
  removeConsumer(consumer: Consumer<T>): void {
    this.consumers = this.consumers.filter((c) => c !== consumer);
    this.only = this.consumers.length === 1 ? this.consumers[0] : undefined;
  }

  /**
   * Starts counting the items pushed (a run observed for progress or metrics). An unobserved
   * run never calls this, so its `next` stays the prototype's, with no counter.
   */
  countItems(): void {
    this.next = this.countingNext;
  }

  /** `next` with a count: what {@linkcode Channel.countItems} installs. */
  private countingNext(item: T): void {
    this.items++;
    if (!this.rt.inActivation) {
      this.rt.emittedOutsideActivation(this.stepId);
      return;
    }
    const only = this.only;
    if (only !== undefined) {
      only.next(item);
      return;
    }
    const cs = this.consumers;
    for (let i = 0; i < cs.length; i++) cs[i]!.next(item);
  }

  /** Pushes an item to every consumer. */
  next(item: T): void {
    if (!this.rt.inActivation) {
      this.rt.emittedOutsideActivation(this.stepId);
      return;
    }
    const only = this.only;
    if (only !== undefined) {
      only.next(item);
      return;
    }
    const cs = this.consumers;
    for (let i = 0; i < cs.length; i++) cs[i]!.next(item);
  }

  /** An error from the producing RxJS chain stops the run, attributed to the producer. */
  error(err: unknown): void {
    this.rt.fail(attributeError(err, this.stepId));
  }

  /** One producer finished; the stream completes when all have. */
  complete(): void {
    if (this.closed) return;
    if (--this.openProducers > 0) return;
    this.closed = true;
    const cs = this.consumers.slice();
    for (let i = 0; i < cs.length; i++) cs[i]!.complete();
  }

  /** RxJS Subscription shape: keeps the chain's teardown. */
  add(teardown: { unsubscribe(): void } | (() => void) | null | undefined): void {
    if (teardown) this.teardowns.push(teardown);
  }

  /** RxJS Subscription shape. */
  remove(teardown: { unsubscribe(): void } | (() => void)): void {
    const i = this.teardowns.indexOf(teardown);
    if (i >= 0) this.teardowns.splice(i, 1);
  }

  /** Tears down the producing chain. */
  unsubscribe(): void {
    this.closed = true;
    const ts = this.teardowns.splice(0);
    for (const t of ts) {
      if (typeof t === "function") t();
      else t.unsubscribe();
    }
  }
}
