/**
 * statefulBatch: the keyed-state primitive every stateful operator is built on.
 *
 * @module
 */
import { toEpochMs } from "../clock.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import {
  DISCARDED_STATE as DISCARDED,
  type Downstream,
  type NO_PARTIAL,
  type RuntimeNode,
  type StepContext,
  type WeirOperator,
  weirOperator,
} from "../dataflow/op.ts";
import { attributeError, DataflowError } from "../errors.ts";
import { checkFunction, isIterable, isKeyedPair, notKeyedError, preview } from "./_chain.ts";
import { KeyTimers, TimerSlot } from "./_key_timers.ts";
import type { LazyKeys } from "../recovery/lazy_keys.ts";

/**
 * What a logic callback returns: the values to emit (each emitted as `[key, value]`) and
 * whether to discard the key's logic ({@linkcode DISCARD}) or keep it ({@linkcode RETAIN}).
 */
export type LogicResult<W> = readonly [outputs: Iterable<W>, discard: boolean];

/** Drop the key's logic (and timer) after this call; the next item builds a fresh one. */
export const DISCARD = true;
/** Keep the key's logic after this call. */
export const RETAIN = false;

/**
 * The per-key logic of {@linkcode statefulBatch}. One instance exists per live key.
 *
 * When each method is called, per activation (one "now" for the whole activation):
 * 1. `onBatch(values)` for every key that received items, keys in order of first arrival in
 *    the activation, values in arrival order;
 * 2. `onNotify()` for every key whose `notifyAt()` time is `<= now`. Timers due at the start
 *    of an activation fire before its new items. A time that fired is not fired again until
 *    the key receives new values (a logic that forgets to clear its timer does not loop);
 * 3. `onEof()` for every live key, in sorted key order, once the upstream ended;
 * 4. `notifyAt()` for every key touched in 1–3 that is still alive (`undefined`: no timer).
 *
 * Returning `discard = true` from 1–3 drops the logic and its timer. `snapshot()` is taken at
 * epoch ends for keys touched in the epoch (recovery), and `builder(snapshot)` rebuilds the
 * logic on resume; snapshots must not be mutated afterwards.
 *
 * @typeParam V Input values.
 * @typeParam W Output values.
 * @typeParam S Snapshot (resume state).
 */
export interface StatefulBatchLogic<V, W, S> {
  /** Handles the values this key received in one activation. */
  onBatch(values: V[]): LogicResult<W>;
  /**
   * Optional per-value path: when present, the runtime calls `onValue(value)` for each value
   * as it arrives, in arrival order, instead of gathering the activation's values for
   * `onBatch` (which is then not called). Outputs it returns are held and emitted at the end
   * of the activation, grouped by key exactly as `onBatch`'s would be. After the key's last
   * value of the activation, `onValuesEnd` (if present) may emit more and discard; without
   * it the key is retained. Folding logics (counts, sums) use it to skip the per-key values
   * array.
   */
  onValue?(value: V): Iterable<W> | void;
  /** With `onValue`: called once per activation after the key's values. Default: retain. */
  onValuesEnd?(): LogicResult<W>;
  /** Handles a timer set by `notifyAt`. Default: emit nothing, retain. */
  onNotify?(): LogicResult<W>;
  /** Handles the end of the input. Default: emit nothing, retain. */
  onEof?(): LogicResult<W>;
  /** When to call `onNotify` next (epoch ms or Date of the run's clock), if at all. */
  notifyAt?(): number | Date | undefined;
  /** The state to snapshot: a structured-clone value. */
  snapshot(): S;
}

/** What a logic's builder learns about the key it serves. */
export interface LogicContext {
  /** The fully qualified id of the stateful step, for error messages. */
  readonly stepId: string;
  /** The key. */
  readonly key: string;
  /** The current activation's time, from the run's clock (for timers; never the wall clock). */
  now(): number;
}

/** Builds a key's logic, from its snapshot on resume or `undefined` for a fresh key. */
export type LogicBuilder<L, S> = (resumeState: NoInfer<S> | undefined, ctx: LogicContext) => L;

/** Options shared by every stateful operator. */
export interface StatefulOptions {
  /**
   * Drops a key's state after it has been idle (no item, timer or EOF callback) for `ttl`
   * milliseconds of the run's clock. The drop counts as a discard: the next item for the key
   * starts from scratch. Default: never (state lives until the logic discards it).
   */
  readonly ttl?: number;
}

/**
 * The lowest-level stateful operator: keeps one {@linkcode StatefulBatchLogic} per key of a
 * keyed stream, built by `builder(resumeState | undefined)`, and emits `[key, output]`.
 * Like Bytewax's `stateful_batch`; every other stateful operator is a composition of it.
 *
 * @param stepId The step's name: with the key, it identifies the state in snapshots.
 * @param builder Builds a key's logic from its snapshot on resume (or `undefined`), and a
 *   {@linkcode LogicContext} with the key and the activation's time.
 * @param options State TTL.
 *
 * @example A running sum per key that forgets a key after reaching 10
 * ```ts
 * import { Dataflow, DISCARD, RETAIN, statefulBatch } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("sums");
 * flow.input("inp", new TestingSource<[string, number]>([["a", 4], ["b", 1], ["a", 6], ["a", 2]]))
 *   .pipe(statefulBatch("sum", (resume: number | undefined) => {
 *     let sum = resume ?? 0;
 *     return {
 *       onBatch(values: number[]) {
 *         for (const v of values) sum += v;
 *         return [[sum], sum >= 10 ? DISCARD : RETAIN];
 *       },
 *       snapshot: () => sum,
 *     };
 *   }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", 4], ["b", 1], ["a", 10], ["a", 2]]);
 * ```
 */
export function statefulBatch<V, W, S>(
  stepId: string,
  builder: LogicBuilder<StatefulBatchLogic<V, W, S>, S>,
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, W]> {
  return keyedStep(stepId, builder, options);
}

/**
 * Internal: {@linkcode statefulBatch} with pre-aggregation. With several workers, a key's
 * values are folded by `combine.fold` on the worker that read them (per activation) and the
 * partial aggregates are merged by the logic `combine.builder` builds, which must take the
 * same snapshots as `builder`'s logic and emit what it would have. Correct for folds whose
 * partial results merge (counts, associative reductions, folds with a merge).
 */
export function keyedStep<V, W, S, P>(
  stepId: string,
  builder: LogicBuilder<StatefulBatchLogic<V, W, S>, S>,
  options: StatefulOptions,
  combine?: {
    readonly fold: (partial: P | typeof NO_PARTIAL, value: V) => P;
    readonly builder: LogicBuilder<StatefulBatchLogic<P, W, S>, S>;
  },
): WeirOperator<readonly [string, V], [string, W]> {
  checkStepId(stepId);
  checkFunction("statefulBatch", stepId, "a builder", builder);
  const ttl = options.ttl;
  if (ttl !== undefined && !(ttl > 0)) {
    throw new RangeError(`statefulBatch("${stepId}") needs a ttl > 0 ms, got ${ttl}`);
  }
  const build =
    <X>(b: LogicBuilder<StatefulBatchLogic<X, W, S>, S>) =>
    (ctx: StepContext, down: Downstream<unknown>) =>
      new StatefulBatchNode<X, W, S>(ctx, down as Downstream<[string, W]>, b, ttl) as RuntimeNode<
        unknown
      >;
  return weirOperator<readonly [string, V], [string, W]>({
    kind: "node",
    name: stepId,
    opType: "statefulBatch",
    exchange: "key",
    build: build(builder),
    ...(combine === undefined ? {} : {
      combine: {
        fold: combine.fold as (partial: unknown, value: unknown) => unknown,
        build: build(combine.builder),
      },
    }),
  });
}

/**
 * A key's slot: its logic, and the values it received in the current activation. It is also
 * the key's slot in the node's timer queue (setting the timer needs no lookup).
 */
class KeyEntry<V, W, S> extends TimerSlot {
  logic: StatefulBatchLogic<V, W, S> | undefined = undefined;
  batch: V[] | undefined = undefined;
  /** The `notifyAt` value that fired since the key's last values (it does not fire twice). */
  fired: number | undefined = undefined;
  /** Touched in the current activation (its `notifyAt` is re-read at the end). */
  touched = false;
  /** The epoch sequence number in which the key was last recorded as changed. */
  changedIn = -1;
  /** Values were folded through `onValue` in the current activation. */
  folded = false;
  /** Outputs `onValue` returned in the current activation, emitted at its end. */
  held: W[] | undefined = undefined;
  /** The node's flush count when the key last got a value (a new count: first value since). */
  seen = -1;
  /** The key's place in the node's `active` list in this activation (-1: none yet). */
  activeIndex = -1;
  /** The key's slot in the TTL queue (with `ttl`). */
  expiry: TimerSlot | undefined = undefined;
}

/**
 * A list of entries that keeps its array between activations (`length = 0` would free the
 * array's storage, and the next activation would grow it again).
 */
class EntryList<E> {
  readonly items: Array<E | undefined> = [];
  /** How many items are in the list. */
  n = 0;
  push(e: E | undefined): void {
    this.items[this.n++] = e;
  }
}

/**
 * What an `onValue` may return, instead of nothing, to say that it emitted nothing and that
 * `onValuesEnd` would emit nothing and retain the key if it were called at the end of this
 * activation, whatever other values of the key arrive in between (those are judged on their
 * own). The runtime then re-reads the key's timer at once and skips the key at the activation's
 * end, where it would otherwise visit it again. Internal: the window driver's fused logic
 * returns it.
 *
 * @internal
 */
export const QUIET: Iterable<never> = Object.freeze([]) as Iterable<never>;

// Marks a key whose state was discarded in the epoch: the runtime's own symbol, public under
// this name (so that its type, `typeof DISCARDED`, is public too).
export { DISCARDED };

/** A shared "emit nothing, retain" result, for callbacks that only update state. */
export const NOTHING: LogicResult<never> = Object.freeze([
  Object.freeze([]),
  RETAIN,
]) as LogicResult<
  never
>;

const ON_BATCH = 0;
const ON_NOTIFY = 1;
const ON_EOF = 2;
const ON_VALUES_END = 3;
const METHOD = ["onBatch", "onNotify", "onEof", "onValuesEnd"] as const;

/** The runtime node of {@linkcode statefulBatch}. */
export class StatefulBatchNode<V, W, S> implements RuntimeNode<readonly [string, V]> {
  private readonly entries = new Map<string, KeyEntry<V, W, S>>();
  /** Keys that received items this activation, in first-arrival order. */
  private active = new EntryList<KeyEntry<V, W, S>>();
  /** The other `active` list (empty), swapped in at each flush. */
  private activeSpare = new EntryList<KeyEntry<V, W, S>>();
  /** Keys touched this activation whose logic has `notifyAt`. */
  private touchedNow = new EntryList<KeyEntry<V, W, S>>();
  /** The other `touchedNow` list (empty), as `activeSpare`. */
  private touchedSpare = new EntryList<KeyEntry<V, W, S>>();
  private readonly timers = new KeyTimers<KeyEntry<V, W, S>>();
  private readonly expiries = new KeyTimers();
  /** Entries changed (retained or discarded) in the current epoch, for snapshots. */
  private changed: KeyEntry<V, W, S>[] = [];
  private epochSeq = 0;
  /** Counts flushes: a key's first value after a flush starts its activation. */
  private flushSeq = 0;
  private upstreamDone = false;
  private eofDone = false;
  private completed = false;
  /** A resumed run's keys not used yet (lazy resume), or undefined. */
  private lazy: LazyKeys | undefined = undefined;

  constructor(
    private readonly ctx: StepContext,
    private readonly down: Downstream<[string, W]>,
    private readonly builder: LogicBuilder<StatefulBatchLogic<V, W, S>, S>,
    private readonly ttl: number | undefined,
  ) {}

  next(item: readonly [string, V]): void {
    if (!isKeyedPair(item)) {
      this.ctx.fail(notKeyedError(this.ctx.stepId, item));
      return;
    }
    const key = item[0];
    let e = this.entries.get(key);
    if (e === undefined && this.lazy !== undefined) {
      if (!this.takeLazy(key, 0)) return;
      e = this.entries.get(key);
    }
    if (e === undefined) {
      e = new KeyEntry<V, W, S>(key);
      this.entries.set(key, e);
    }
    if (e.logic === undefined && !this.build(e)) return;
    const logic = e.logic!;
    if (e.seen !== this.flushSeq) {
      // The key's first value of the activation. Its change in the epoch (it is retained or
      // discarded at the flush) is recorded now, in first-arrival order.
      e.seen = this.flushSeq;
      e.activeIndex = -1;
      if (e.changedIn !== this.epochSeq) {
        e.changedIn = this.epochSeq;
        this.changed.push(e);
      }
    }
    if (logic.onValue !== undefined) {
      let out;
      try {
        out = logic.onValue(item[1]);
        if (out !== undefined && out !== null && out !== QUIET) {
          const held = e.held ??= [];
          if (Array.isArray(out)) {
            for (let i = 0; i < out.length; i++) held.push(out[i]);
          } else {
            for (const o of out as Iterable<W>) held.push(o);
          }
        }
      } catch (err) {
        this.ctx.fail(err, { key, what: "onValue failed" });
        return;
      }
      if (out === QUIET) {
        if (e.folded) return; // listed already: the flush does the key's work
        if (e.activeIndex < 0) {
          // The key's first value: keep its place in first-arrival order (filled if it gets
          // outputs later) and do the flush's work for it now.
          e.activeIndex = this.active.n;
          this.active.push(undefined);
          this.quiet(e, logic);
          return;
        }
        // A later quiet value: list the key, so the flush does its work once.
      }
      if (!e.folded) {
        e.folded = true;
        this.pushActive(e);
      }
      return;
    }
    if (e.batch === undefined) {
      e.batch = [item[1]];
      this.pushActive(e);
    } else {
      e.batch.push(item[1]);
    }
  }

  /** Lists a key for the flush, at its place in first-arrival order. */
  private pushActive(e: KeyEntry<V, W, S>): void {
    if (e.activeIndex >= 0) {
      this.active.items[e.activeIndex] = e;
    } else {
      e.activeIndex = this.active.n;
      this.active.push(e);
    }
  }

  /**
   * After the key's first value of the activation returned {@linkcode QUIET}: the flush's work
   * for the key, now — retain, timer re-read.
   */
  private quiet(e: KeyEntry<V, W, S>, logic: StatefulBatchLogic<V, W, S>): void {
    const now = this.ctx.now();
    e.fired = undefined;
    if (this.ttl !== undefined) this.armExpiry(e, now);
    if (logic.notifyAt !== undefined) this.rereadTimer(e, logic, now);
  }

  complete(): void {
    this.upstreamDone = true;
  }

  nextWake(): number | undefined {
    // Restored keys to go through (after the first flush: the first batches go first).
    if (this.lazy !== undefined && this.flushSeq > 0) return this.ctx.now();
    const t = this.timers.size > 0 ? this.timers.peek() : undefined;
    const x = this.expiries.size > 0 ? this.expiries.peek() : undefined;
    return t === undefined ? x : x === undefined ? t : Math.min(t, x);
  }

  flush(now: number): void {
    this.flushSeq++;
    // Restored keys not used yet: a share per flush (their timers may be due), all at EOF; not
    // in the first flush if it has batches, so that a resumed run's first items go first.
    const lazyShare = this.upstreamDone
      ? Infinity
      : this.flushSeq === 1 && this.active.n > 0
      ? 0
      : 8192;
    // 1. Batches, keys in first-arrival order.
    if (this.active.n > 0) {
      const active = this.active;
      this.active = this.activeSpare;
      this.activeSpare = active;
      const items = active.items;
      const n = active.n;
      active.n = 0;

      for (let i = 0; i < n; i++) {
        const e = items[i];
        if (e === undefined) continue; // a quiet key, done at its value
        items[i] = undefined;
        // New input may legitimately ask again for a time that already fired.
        e.fired = undefined;
        if (e.folded) {
          e.folded = false;
          const held = e.held;
          if (held !== undefined) {
            e.held = undefined;
            for (let j = 0; j < held.length; j++) this.down.next([e.key, held[j]!]);
          }
          const logic = e.logic;
          if (logic === undefined) continue;
          if (logic.onValuesEnd === undefined) this.retain(e, logic, now);
          else if (!this.invoke(e, ON_VALUES_END, undefined, now)) return;
          continue;
        }
        const values = e.batch!;
        e.batch = undefined;
        if (e.logic === undefined && !this.build(e)) return;
        if (!this.invoke(e, ON_BATCH, values, now)) return;
      }
    }
    if (this.lazy !== undefined && lazyShare > 0 && !this.takeLazy("", lazyShare)) return;
    // 2. Timers that are due.
    if (this.timers.size > 0 && this.timers.peek()! <= now) {
      for (const e of this.timers.popDue(now)) {
        if (e.logic === undefined) continue;
        e.fired = e.due;
        if (!this.invoke(e, ON_NOTIFY, undefined, now)) return;
      }
    }
    // 3. EOF, keys in sorted order.
    if (this.upstreamDone && !this.eofDone) {
      this.eofDone = true;
      // Only logics with an onEof have anything to do (and nothing changes for the others).
      const keys: string[] = [];
      for (const e of this.entries.values()) if (e.logic?.onEof !== undefined) keys.push(e.key);
      keys.sort();
      for (const key of keys) {
        const e = this.entries.get(key);
        if (e?.logic === undefined) continue;
        if (!this.invoke(e, ON_EOF, undefined, now)) return;
      }
    }
    // 4. Re-read the timers of the keys touched in 1–3.
    if (this.touchedNow.n > 0) {
      const touched = this.touchedNow;
      this.touchedNow = this.touchedSpare;
      this.touchedSpare = touched;
      const items = touched.items;
      const n = touched.n;
      touched.n = 0;
      for (let i = 0; i < n; i++) {
        const e = items[i]!;
        items[i] = undefined;
        e.touched = false;
        if (e.logic !== undefined) this.rereadTimer(e, e.logic, now);
      }
    }
    // State TTL: drop keys idle for `ttl`.
    if (this.ttl !== undefined && this.expiries.size > 0 && this.expiries.peek()! <= now) {
      for (const slot of this.expiries.popDue(now)) this.discard(this.entries.get(slot.key));
    }
    if (this.upstreamDone && !this.completed) {
      this.completed = true;
      this.down.complete();
    }
  }

  /** Builds a fresh logic for `e`; false after a failure. */
  private build(e: KeyEntry<V, W, S>): boolean {
    try {
      e.logic = this.newLogic(e.key, undefined, "Builder failed");
    } catch (err) {
      this.ctx.fail(err);
      return false;
    }
    return true;
  }

  /**
   * Calls the builder for `key` (with its snapshot on resume) and checks what it returned.
   * Throws a DataflowError naming the key (`what` for a builder that throws).
   */
  private newLogic(key: string, resume: S | undefined, what: string) {
    let logic;
    try {
      logic = this.builder(resume, { stepId: this.ctx.stepId, key, now: this.ctx.now });
    } catch (err) {
      throw attributeError(err, this.ctx.stepId, what, { key });
    }
    if (
      logic === null || typeof logic !== "object" || typeof logic.onBatch !== "function" ||
      typeof logic.snapshot !== "function"
    ) {
      throw new DataflowError(
        this.ctx.stepId,
        `Builder must return a logic object with onBatch and snapshot, got ${preview(logic)}`,
        { key },
      );
    }
    return logic;
  }

  /** Re-reads a key's `notifyAt` and sets or clears its timer (a time that fired is not re-set). */
  private rereadTimer(e: KeyEntry<V, W, S>, logic: StatefulBatchLogic<V, W, S>, now: number) {
    const t = this.notifyTime(e, logic);
    if (t === undefined || t === e.fired) this.timers.delete(e);
    else this.timers.set(e, t, now);
  }

  /** Restarts a key's idle clock (state TTL). */
  private armExpiry(e: KeyEntry<V, W, S>, now: number): void {
    this.expiries.set(e.expiry ??= new TimerSlot(e.key), now + this.ttl!, now);
  }

  /**
   * Runs one logic callback, emits its outputs as `[key, output]`, applies discard/retain.
   * False on failure.
   */
  private invoke(
    e: KeyEntry<V, W, S>,
    method: number,
    values: V[] | undefined,
    now: number,
  ): boolean {
    const logic = e.logic!;
    let result: LogicResult<W>;
    try {
      result = method === ON_BATCH
        ? logic.onBatch(values!)
        : method === ON_NOTIFY
        ? (logic.onNotify ? logic.onNotify() : NOTHING)
        : method === ON_EOF
        ? (logic.onEof ? logic.onEof() : NOTHING)
        : logic.onValuesEnd!();
    } catch (err) {
      this.ctx.fail(err, { key: e.key, what: `${METHOD[method]} failed` });
      return false;
    }
    if (result === NOTHING) {
      // The common "emit nothing, retain" (a valid result): skip the shape checks.
      this.retain(e, logic, now);
      return true;
    }
    if (!Array.isArray(result) || result.length !== 2 || typeof result[1] !== "boolean") {
      return this.badResult(e, method, result);
    }
    const key = e.key;
    const outputs = result[0];
    if (Array.isArray(outputs)) {
      for (let i = 0; i < outputs.length; i++) this.down.next([key, outputs[i]]);
    } else if (isIterable(outputs)) {
      try {
        for (const o of outputs) this.down.next([key, o]);
      } catch (err) {
        this.ctx.fail(err, { key, what: `Iterating the outputs of ${METHOD[method]} failed` });
        return false;
      }
    } else {
      return this.badResult(e, method, result);
    }
    if (result[1]) this.discard(e);
    else this.retain(e, logic, now);
    return true;
  }

  /** Records a retained key: changed in the epoch, timer to re-read, TTL re-armed. */
  private retain(e: KeyEntry<V, W, S>, logic: StatefulBatchLogic<V, W, S>, now: number): void {
    if (e.changedIn !== this.epochSeq) {
      e.changedIn = this.epochSeq;
      this.changed.push(e);
    }
    if (logic.notifyAt !== undefined && !e.touched) {
      e.touched = true;
      this.touchedNow.push(e);
    }
    if (this.ttl !== undefined) this.armExpiry(e, now);
  }

  private badResult(e: KeyEntry<V, W, S>, method: number, result: unknown): false {
    this.ctx.fail(
      new DataflowError(
        this.ctx.stepId,
        `${METHOD[method]} must return [outputs, discard] (an iterable and a boolean), got ${
          preview(result)
        }`,
        { key: e.key },
      ),
    );
    return false;
  }

  private discard(e: KeyEntry<V, W, S> | undefined): void {
    if (e === undefined) return;
    const key = e.key;
    if (this.entries.get(key) === e) this.entries.delete(key);
    e.logic = undefined;
    this.timers.delete(e);
    if (e.expiry !== undefined) this.expiries.delete(e.expiry);
    if (e.changedIn !== this.epochSeq) {
      e.changedIn = this.epochSeq;
      this.changed.push(e);
    }
  }

  private notifyTime(e: KeyEntry<V, W, S>, logic: StatefulBatchLogic<V, W, S>): number | undefined {
    let t;
    try {
      t = logic.notifyAt!();
    } catch (err) {
      this.ctx.fail(err, { key: e.key, what: "notifyAt failed" });
      return undefined;
    }
    if (t === undefined || t === null) return undefined;
    if (typeof t !== "number" && !(t instanceof Date)) {
      this.ctx.fail(
        new DataflowError(
          this.ctx.stepId,
          `notifyAt must return epoch ms, a Date or undefined, got ${preview(t)}`,
          { key: e.key },
        ),
      );
      return undefined;
    }
    return toEpochMs(t);
  }

  /** How many keys hold state. */
  get keyCount(): number {
    return this.entries.size + (this.lazy?.size ?? 0);
  }

  /**
   * The keys changed in the current epoch — each with its snapshot, or {@linkcode DISCARDED}
   * when its state was dropped — in the order they were first changed. For recovery.
   */
  epochChanges(): Array<[string, S | typeof DISCARDED]> {
    const out: Array<[string, S | typeof DISCARDED]> = [];
    this.forEachChange((key, snap) => out.push([key, snap as S | typeof DISCARDED]));
    return out;
  }

  /** Calls `fn` for each key changed in the current epoch (see `epochChanges`). */
  forEachChange(fn: (key: string, snapshot: unknown) => void): void {
    const seq = this.epochSeq;
    for (const e of this.changed) {
      const live = this.entries.get(e.key);
      if (live !== e) {
        // Discarded, then built again in the same epoch: the live entry reports the key.
        if (live !== undefined && live.changedIn === seq) continue;
        fn(e.key, DISCARDED);
        continue;
      }
      if (e.logic === undefined) {
        fn(e.key, DISCARDED);
        continue;
      }
      let snap;
      try {
        snap = e.logic.snapshot();
      } catch (err) {
        throw new DataflowError(this.ctx.stepId, "snapshot failed", { key: e.key, cause: err });
      }
      fn(e.key, snap);
    }
  }

  /**
   * Rebuilds a key from its snapshot (resume), re-reading its timer; replaces an earlier
   * restore of the key; {@linkcode DISCARDED} removes it.
   */
  restore(key: string, snapshot: unknown): void {
    const old = this.entries.get(key);
    if (old !== undefined) this.forget(old);
    if (snapshot === DISCARDED) return;
    const e = new KeyEntry<V, W, S>(key);
    const logic = this.newLogic(key, snapshot as S, "Builder failed to restore the key's snapshot");
    e.logic = logic;
    this.entries.set(key, e);
    const now = this.ctx.now();
    if (logic.notifyAt !== undefined) this.rereadTimer(e, logic, now);
    if (this.ttl !== undefined) this.armExpiry(e, now);
  }

  /** Removes a restored key with its timers (no change is recorded: this is not an epoch's). */
  private forget(e: KeyEntry<V, W, S>): void {
    this.entries.delete(e.key);
    this.timers.delete(e);
    if (e.expiry !== undefined) this.expiries.delete(e.expiry);
  }

  /**
   * Takes a resumed run's keys (instead of `restore` per key), each restored on its first item
   * or, 8192 per activation and all at EOF, by `takeLazy` (see `LazyRestorable`).
   */
  restoreLazy(state: LazyKeys): void {
    this.lazy = state.size > 0 ? state : undefined;
  }

  /**
   * With `limit` 0, restores `key` if the lazily restored keys hold it; otherwise restores up to
   * `limit` of the keys not used yet. False after a failure.
   */
  private takeLazy(key: string, limit: number): boolean {
    const lazy = this.lazy!;
    const restore = (k: string, snapshot: unknown) => this.restore(k, snapshot);
    try {
      if (limit > 0) lazy.takeSome(limit, restore);
      else lazy.take(key, restore);
    } catch (err) {
      this.ctx.fail(err); // a DataflowError naming the step and key
      return false;
    } finally {
      if (lazy.size === 0) this.lazy = undefined;
    }
    return true;
  }

  /** Forgets every key (before the first activation of a resumed run). */
  resetState(): void {
    this.lazy = undefined;
    for (const e of [...this.entries.values()]) this.forget(e);
  }

  /** Called by the scheduler at each epoch end: starts a new record of changed keys. */
  epochEnded(): void {
    this.changed = [];
    this.epochSeq++;
  }
}
