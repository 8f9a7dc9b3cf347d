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
  protected consumers: Consumer<T>[] = [];
  protected only: Consumer<T> | undefined = undefined;
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
    protected readonly rt: ChannelRuntime,
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
    const next = this.next;
    this.next = (item: T) => {
      this.items++;
      next.call(this, item);
    };
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

/** A consumer that also takes a keyed item as `(key, value)`, with no pair (the keyed node). */
export interface KeyedConsumer<V> extends Consumer<readonly [string, V]> {
  /** Same as `next([key, value])`. */
  nextKeyed(key: string, value: V): void;
}

/**
 * The stream of a `keyOn`-like step (one that declares `KEY_OF`) whose operator the builder did
 * not apply: the channel keys each item itself. Its only consumer, when keyed (the keyed node),
 * gets `(key, item)` with no pair, one RxJS step and one channel hop fewer per item; any other
 * consumers get `[key, item]` as from the step. Errors read as they would from the step: a bad
 * key names the step, an error from upstream the upstream step.
 */
export class KeyingChannel<V> extends Channel<unknown> {
  /** The only consumer, if it takes `nextKeyed`. */
  private keyed: KeyedConsumer<unknown> | undefined = undefined;

  /**
   * @param stepId The keying step (its stream's producer).
   * @param rt The worker runtime.
   * @param keyOf The step's `KEY_OF`: an item's key, or throws.
   * @param upstreamId The step before it, which errors from upstream are attributed to.
   */
  constructor(
    stepId: string,
    rt: ChannelRuntime,
    private readonly keyOf: (item: V) => string,
    private readonly upstreamId: string,
  ) {
    super(stepId, rt);
  }

  /**
   * Adds a consumer. (A removed consumer, an RxJS chain's head, is never the keyed one: that is
   * set only while it is the channel's single consumer.)
   */
  override addConsumer(consumer: Consumer<unknown>): void {
    super.addConsumer(consumer);
    const c = this.only as Partial<KeyedConsumer<unknown>> | undefined;
    this.keyed = c?.nextKeyed ? c as KeyedConsumer<unknown> : undefined;
  }

  override next(item: unknown): void {
    if (!this.rt.inActivation) return this.rt.emittedOutsideActivation(this.stepId);
    let key: string;
    try {
      key = this.keyOf(item as V);
    } catch (err) {
      // The run fails (its first failure is kept): nothing of this activation reaches a sink.
      return this.rt.fail(attributeError(err, this.stepId));
    }
    if (this.keyed) return this.keyed.nextKeyed(key, item);
    const pair = [key, item];
    for (const c of this.consumers) c.next(pair);
  }

  /** An error from upstream: attributed to the upstream step (as the keying step would). */
  override error(err: unknown): void {
    this.rt.fail(attributeError(err, this.upstreamId));
  }
}
