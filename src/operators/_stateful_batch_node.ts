/**
 * The runtime node of `statefulBatch`: one logic per key, an activation's values grouped by
 * key, timers, EOF, state TTL, and the record of the keys changed in an epoch (snapshots).
 *
 * @module
 */
import { toEpochMs } from "../clock.ts";
import {
  DISCARDED_STATE as DISCARDED,
  type Downstream,
  type RuntimeNode,
  type StepContext,
} from "../dataflow/op.ts";
import { attributeError, DataflowError } from "../errors.ts";
import { isIterable, isKeyedPair, notKeyedError, preview } from "./_chain.ts";
import { KeyTimers, TimerSlot } from "./_key_timers.ts";
import { EntryList, KeyEntry, NO_OUTPUT } from "./_key_entry.ts";
import type { LazyKeys } from "../recovery/lazy_keys.ts";
import { type PerValueLogic, QUIET } from "./_per_value_logic.ts";
import { type LogicBuilder, type LogicResult, NOTHING } from "./stateful_batch_logic.ts";

const ON_BATCH = 0;
const ON_NOTIFY = 1;
const ON_EOF = 2;
const ON_VALUES_END = 3;
const METHOD = ["onBatch", "onNotify", "onEof", "onValuesEnd"] as const;

/** The runtime node of `statefulBatch` (built by `keyedStep`). */
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
    private readonly builder: LogicBuilder<PerValueLogic<V, W, S>, S>,
    private readonly ttl: number | undefined,
  ) {}

  next(item: readonly [string, V]): void {
    if (!isKeyedPair(item)) {
      this.ctx.fail(notKeyedError(this.ctx.stepId, item));
      return;
    }
    this.nextKeyed(item[0], item[1]);
  }

  /** `next([key, value])` without the pair (from a `KeyingChannel`). */
  nextKeyed(key: string, value: V): void {
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
    if (logic.mapValue !== undefined) {
      let out;
      try {
        out = logic.mapValue(value);
      } catch (err) {
        // As the batch path reported it (the public contract has no per-value hook).
        this.ctx.fail(err, { key, what: "onBatch failed" });
        return;
      }
      if (e.first === NO_OUTPUT) e.first = out;
      else (e.held ??= []).push(out);
      if (!e.folded) {
        e.folded = true;
        this.pushActive(e);
      }
      return;
    }
    if (logic.onValue !== undefined) {
      let out;
      try {
        out = logic.onValue(value);
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
      e.batch = [value];
      this.pushActive(e);
    } else {
      e.batch.push(value);
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
  private quiet(e: KeyEntry<V, W, S>, logic: PerValueLogic<V, W, S>): void {
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
          const first = e.first;
          if (first !== NO_OUTPUT) {
            e.first = NO_OUTPUT;
            this.down.next([e.key, first]);
          }
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
  private rereadTimer(e: KeyEntry<V, W, S>, logic: PerValueLogic<V, W, S>, now: number) {
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
  private retain(e: KeyEntry<V, W, S>, logic: PerValueLogic<V, W, S>, now: number): void {
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

  private notifyTime(e: KeyEntry<V, W, S>, logic: PerValueLogic<V, W, S>): number | undefined {
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
