/**
 * A per-key timer queue: at most one deadline per key, the earliest found in O(log n).
 *
 * Each key has a {@linkcode TimerSlot} that its owner keeps (statefulBatch keeps it in the key's
 * entry), so setting a deadline is a few field writes, with no lookup by key. The queue is a
 * binary min-heap of (time, slot) with lazy deletion: a slot holds its deadline (`due`) and the
 * time of its live heap entry (`queued`). Moving a deadline later pushes nothing: the entry is
 * re-queued at the new time when it surfaces. Moving it earlier pushes nothing either until some
 * deadline may be due: the slot goes on a "moved earlier" list whose minimum bounds `peek()`,
 * and the list is pushed into the heap only when that minimum is reached. Deadlines that move
 * on every activation — window closes, whose system-time estimate shifts with every new event —
 * so cost a few field writes, not a heap push.
 *
 * @module
 */

/** A key's place in a {@linkcode KeyTimers}; one per key and queue, kept by its owner. */
export class TimerSlot {
  /** The key's deadline (meaningful while `armed`). */
  due = 0;
  /** The time of the key's live heap entry (NaN: none). */
  queued = Number.NaN;
  /** Has a deadline. */
  armed = false;
  /** On the moved-earlier list (`due < queued`, not pushed yet). */
  earlier = false;
  constructor(readonly key: string) {}
}

/** Deadlines by key, through the keys' {@linkcode TimerSlot}s. */
export class KeyTimers<T extends TimerSlot = TimerSlot> {
  #size = 0;
  #times: number[] = [];
  #slots: T[] = [];
  /** Slots whose deadline moved earlier than their heap entry, not yet pushed. */
  #earlier: T[] = [];
  /** A lower bound of the deadlines on the moved-earlier list. */
  #earlierMin = Number.POSITIVE_INFINITY;

  /** How many keys have a deadline. */
  get size(): number {
    return this.#size;
  }

  /** The deadline of `slot`'s key, if any. */
  get(slot: T): number | undefined {
    return slot.armed ? slot.due : undefined;
  }

  /** Sets (or moves) the deadline of `slot`'s key. */
  set(slot: T, time: number): void {
    if (slot.armed) {
      if (slot.due === time) return;
      slot.due = time;
      if (slot.queued <= time) return; // the live entry surfaces first and is re-queued then
      if (!slot.earlier) {
        slot.earlier = true;
        this.#earlier.push(slot);
      }
      if (time < this.#earlierMin) this.#earlierMin = time;
      return;
    }
    slot.armed = true;
    slot.due = time;
    this.#size++;
    if (slot.queued <= time) return; // a live entry from before a delete surfaces first
    slot.queued = time;
    this.#push(time, slot);
    // Dead entries accumulate when deadlines move earlier often; rebuild when they dominate.
    if (this.#times.length > 64 && this.#times.length > 4 * this.#size) this.#rebuild();
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

  /** Pushes the moved-earlier slots into the heap at their deadlines. */
  #pushEarlier(): void {
    const slots = this.#earlier;
    this.#earlier = [];
    this.#earlierMin = Number.POSITIVE_INFINITY;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (!slot.earlier) continue;
      slot.earlier = false;
      if (slot.armed && slot.due < slot.queued) {
        slot.queued = slot.due;
        this.#push(slot.due, slot);
      }
    }
  }

  /**
   * Removes and returns the slots whose deadline is `<= now`, earliest first (ties by key), so
   * the order is deterministic. Each slot's `due` is the deadline that came due.
   */
  popDue(now: number): T[] {
    const out: T[] = [];
    if (this.#earlier.length > 0 && this.#earlierMin <= now) this.#pushEarlier();
    for (;;) {
      this.#settleTop();
      const t = this.#times[0];
      if (t === undefined || t > now) break;
      const slot = this.#slots[0]!; // due === t: moved-earlier slots were pushed above
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
   * slot is on the moved-earlier list, which `peek` and `popDue` account for.
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

  /** Rebuilds the heap with one entry per armed slot, at its deadline. */
  #rebuild(): void {
    const slots = this.#slots;
    this.#times = [];
    this.#slots = [];
    this.#earlier = [];
    this.#earlierMin = Number.POSITIVE_INFINITY;
    // Every armed slot has an entry in the heap; slots on the moved-earlier list are among them.
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      slot.earlier = false;
      slot.queued = Number.NaN;
    }
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (!slot.armed || slot.queued === slot.due) continue; // disarmed, or pushed already
      slot.queued = slot.due;
      this.#push(slot.due, slot);
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
