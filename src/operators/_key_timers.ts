/**
 * A per-key timer queue: at most one deadline per key, the earliest found in O(log n).
 *
 * Each key has a {@linkcode TimerSlot} that its owner keeps (statefulBatch keeps it in the key's
 * entry), so setting a deadline is a few field writes, with no lookup by key. Deadlines live in
 * two places:
 *
 * - a binary min-heap of (time, slot) with lazy deletion, for near deadlines: a slot holds its
 *   deadline (`due`) and the time of its live heap entry (`queued`). Moving a deadline later
 *   pushes nothing: the entry is re-queued at the new time when it surfaces;
 * - an unsorted list, for deadlines more than `HORIZON` ms after the caller's `now` when set
 *   (or moved earlier) and not yet in the heap. Its minimum bounds `peek()`; when that minimum
 *   is reached, the list is scanned and its deadlines within the horizon go into the heap. So
 *   the list is scanned at most about once per horizon, and a deadline that moves on every
 *   activation — a window close, whose system-time estimate shifts with every new event —
 *   costs a few field writes until it is near, not a heap push each time.
 *
 * @module
 */

/**
 * A key's place in a {@linkcode KeyTimers}; one per key and queue, kept by its owner.
 *
 * No constructor parameter properties here or in subclasses: with them, the emitted class first
 * defines every field as `undefined`, and V8 then boxes every time stored in `due` and `queued`.
 */
export class TimerSlot {
  /** The key's deadline (meaningful while `armed`). */
  due = 0.5;
  /** The time of the key's live heap entry (NaN: none). */
  queued = Number.NaN;
  /** Has a deadline. */
  armed = false;
  /** On the list of deadlines not in the heap yet (`due < queued`, or no entry). */
  earlier = false;
  /** The key. */
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
}

/**
 * How far ahead (ms of the run's clock) a deadline counts as near: near deadlines go into the
 * heap at once, later ones wait on the unsorted list, which is scanned at most about once per
 * horizon. Only speed depends on it.
 */
const HORIZON = 1_000;

/** Deadlines by key, through the keys' {@linkcode TimerSlot}s. */
export class KeyTimers<T extends TimerSlot = TimerSlot> {
  #size = 0;
  #times: number[] = [];
  #slots: T[] = [];
  /** Slots whose deadline is not in the heap yet (it was later than `now + HORIZON`). */
  #earlier: T[] = [];
  /** A lower bound of the deadlines on the list. */
  #earlierMin = Number.POSITIVE_INFINITY;

  /** How many keys have a deadline. */
  get size(): number {
    return this.#size;
  }

  /** The deadline of `slot`'s key, if any. */
  get(slot: T): number | undefined {
    return slot.armed ? slot.due : undefined;
  }

  /**
   * Sets (or moves) the deadline of `slot`'s key. `now`, the caller's current time, only
   * decides whether the deadline is near (pushed into the heap) or waits on the list.
   */
  set(slot: T, time: number, now = Number.NEGATIVE_INFINITY): void {
    if (slot.armed) {
      if (slot.due === time) return;
      slot.due = time;
    } else {
      slot.armed = true;
      slot.due = time;
      this.#size++;
    }
    // A live entry at or before the deadline surfaces first and is re-queued then.
    if (slot.queued <= time) return;
    if (time - now < HORIZON) {
      slot.queued = time;
      this.#push(time, slot);
      // Dead entries accumulate when deadlines move earlier; rebuild when they dominate.
      if (this.#times.length > 64 && this.#times.length > 4 * this.#size) this.#rebuild();
      return;
    }
    if (!slot.earlier) {
      slot.earlier = true;
      this.#earlier.push(slot);
    }
    if (time < this.#earlierMin) this.#earlierMin = time;
  }

  /** Removes the deadline of `slot`'s key. */
  delete(slot: T): void {
    if (!slot.armed) return;
    slot.armed = false;
    this.#size--;
  }

  /**
   * The earliest deadline, or `undefined`. May be earlier than the true earliest deadline
   * (never later): a wake-up at that time finds nothing due, which is harmless.
   */
  peek(): number | undefined {
    this.#settleTop();
    const top = this.#times[0];
    if (this.#earlier.length === 0) return top;
    return top === undefined || this.#earlierMin < top ? this.#earlierMin : top;
  }

  /**
   * Pushes the listed slots whose deadline is before `now + HORIZON` into the heap; the others
   * stay listed, under a new lower bound.
   */
  #pushEarlier(now: number): void {
    const slots = this.#earlier;
    const limit = now + HORIZON;
    let kept = 0;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (!slot.earlier) continue;
      if (!slot.armed || slot.queued <= slot.due) {
        slot.earlier = false; // deleted, or its live entry comes first
      } else if (slot.due < limit) {
        slot.earlier = false;
        slot.queued = slot.due;
        this.#push(slot.due, slot);
      } else {
        slots[kept++] = slot;
        if (slot.due < min) min = slot.due;
      }
    }
    slots.length = kept;
    this.#earlierMin = min;
  }

  /**
   * Removes and returns the slots whose deadline is `<= now`, earliest first (ties by key), so
   * the order is deterministic. Each slot's `due` is the deadline that came due.
   */
  popDue(now: number): T[] {
    const out: T[] = [];
    if (this.#earlier.length > 0 && this.#earlierMin <= now) this.#pushEarlier(now);
    for (;;) {
      this.#settleTop();
      const t = this.#times[0];
      if (t === undefined || t > now) break;
      const slot = this.#slots[0]!; // due === t: listed slots due by now were pushed above
      this.#pop();
      slot.armed = false;
      slot.queued = Number.NaN;
      this.#size--;
      out.push(slot);
    }
    out.sort((a, b) => a.due - b.due || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /**
   * Makes the heap's top a live entry: drops dead entries (deleted or superseded) and re-queues
   * entries whose deadline moved later. A live top whose deadline moved earlier stays; that
   * slot is on the list, which `peek` and `popDue` account for.
   */
  #settleTop(): void {
    while (this.#times.length > 0) {
      const t = this.#times[0]!;
      const slot = this.#slots[0]!;
      if (slot.queued !== t) {
        this.#pop(); // superseded by a later push
        continue;
      }
      if (!slot.armed) {
        this.#pop();
        slot.queued = Number.NaN;
        continue;
      }
      if (slot.due > t) {
        this.#pop();
        slot.queued = slot.due;
        this.#push(slot.due, slot);
        continue;
      }
      return;
    }
  }

  /** Rebuilds the heap with one entry per armed slot, at its deadline; empties the list. */
  #rebuild(): void {
    const slots = this.#slots;
    const listed = this.#earlier;
    this.#times = [];
    this.#slots = [];
    this.#earlier = [];
    this.#earlierMin = Number.POSITIVE_INFINITY;
    // Every armed slot is in the heap or on the list (or both).
    for (let i = 0; i < slots.length; i++) {
      slots[i]!.earlier = false;
      slots[i]!.queued = Number.NaN;
    }
    for (let i = 0; i < listed.length; i++) {
      listed[i]!.earlier = false;
      listed[i]!.queued = Number.NaN;
    }
    for (const all of [slots, listed]) {
      for (let i = 0; i < all.length; i++) {
        const slot = all[i]!;
        if (!slot.armed || slot.queued === slot.due) continue; // disarmed, or pushed already
        slot.queued = slot.due;
        this.#push(slot.due, slot);
      }
    }
  }

  #push(time: number, slot: T): void {
    const times = this.#times;
    const slots = this.#slots;
    let i = times.length;
    times.push(time);
    slots.push(slot);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      slots[i] = slots[parent]!;
      i = parent;
    }
    times[i] = time;
    slots[i] = slot;
  }

  #pop(): void {
    const times = this.#times;
    const slots = this.#slots;
    const lastT = times.pop()!;
    const lastS = slots.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && times[r]! < times[l]! ? r : l;
      if (times[c]! >= lastT) break;
      times[i] = times[c]!;
      slots[i] = slots[c]!;
      i = c;
    }
    times[i] = lastT;
    slots[i] = lastS;
  }
}
