/**
 * A per-key timer queue: at most one deadline per key, the earliest found in O(log n).
 *
 * A binary min-heap of (time, key) with lazy deletion. Each key has one slot holding its
 * deadline (`due`) and the time of its live heap entry (`queued`). Moving a deadline later
 * pushes nothing: the entry is re-queued at the new time when it surfaces. Moving it earlier
 * pushes nothing either until some deadline may be due: the key goes on a "moved earlier"
 * list whose minimum bounds `peek()`, and the list is pushed into the heap only when that
 * minimum is reached. Deadlines that move on every activation — window closes, whose
 * system-time estimate shifts with every new event — so cost a map update, not a heap push.
 *
 * @module
 */

interface Slot {
  /** The key's deadline. */
  due: number;
  /** The time of the key's live heap entry. */
  queued: number;
  /** On the moved-earlier list (`due < queued`, not pushed yet). */
  earlier: boolean;
}

/** Deadlines by key. */
export class KeyTimers {
  readonly #slots = new Map<string, Slot>();
  #times: number[] = [];
  #keys: string[] = [];
  /** Keys whose deadline moved earlier than their heap entry, not yet pushed. */
  #earlier: string[] = [];
  /** A lower bound of the deadlines on the moved-earlier list. */
  #earlierMin = Number.POSITIVE_INFINITY;

  /** How many keys have a deadline. */
  get size(): number {
    return this.#slots.size;
  }

  /** The deadline of `key`, if any. */
  get(key: string): number | undefined {
    return this.#slots.get(key)?.due;
  }

  /** Sets (or moves) the deadline of `key`. */
  set(key: string, time: number): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) {
      this.#slots.set(key, { due: time, queued: time, earlier: false });
      this.#push(time, key);
    } else {
      if (slot.due === time) return;
      slot.due = time;
      if (slot.queued <= time) return; // the live entry surfaces first and is re-queued then
      if (!slot.earlier) {
        slot.earlier = true;
        this.#earlier.push(key);
      }
      if (time < this.#earlierMin) this.#earlierMin = time;
      return;
    }
    // Dead entries accumulate when deadlines move earlier often; rebuild when they dominate.
    if (this.#times.length > 64 && this.#times.length > 4 * this.#slots.size) this.#rebuild();
  }

  /** Removes the deadline of `key`. */
  delete(key: string): void {
    this.#slots.delete(key);
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

  /** Pushes the moved-earlier keys into the heap at their deadlines. */
  #pushEarlier(): void {
    const keys = this.#earlier;
    this.#earlier = [];
    this.#earlierMin = Number.POSITIVE_INFINITY;
    for (const key of keys) {
      const slot = this.#slots.get(key);
      if (slot === undefined || !slot.earlier) continue;
      slot.earlier = false;
      if (slot.due < slot.queued) {
        slot.queued = slot.due;
        this.#push(slot.due, key);
      }
    }
  }

  /**
   * Removes and returns the `[time, key]` pairs whose deadline is `<= now`, earliest first
   * (ties by key), so the order is deterministic.
   */
  popDue(now: number): Array<[time: number, key: string]> {
    const out: Array<[number, string]> = [];
    if (this.#earlier.length > 0 && this.#earlierMin <= now) this.#pushEarlier();
    for (;;) {
      this.#settleTop();
      const t = this.#times[0];
      if (t === undefined || t > now) break;
      const key = this.#keys[0]!;
      const due = this.#slots.get(key)!.due; // === t: moved-earlier keys were pushed above
      this.#pop();
      this.#slots.delete(key);
      out.push([due, key]);
    }
    out.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return out;
  }

  /**
   * Makes the heap's top a live entry: drops dead entries (deleted or superseded keys) and
   * re-queues entries whose deadline moved later. A live top whose deadline moved earlier
   * stays; that key is on the moved-earlier list, which `peek` and `popDue` account for.
   */
  #settleTop(): void {
    while (this.#times.length > 0) {
      const t = this.#times[0]!;
      const key = this.#keys[0]!;
      const slot = this.#slots.get(key);
      if (slot === undefined || slot.queued !== t) {
        this.#pop();
        continue;
      }
      if (slot.due > t) {
        this.#pop();
        slot.queued = slot.due;
        this.#push(slot.due, key);
        continue;
      }
      return;
    }
  }

  #rebuild(): void {
    this.#times = [];
    this.#keys = [];
    this.#earlier = [];
    this.#earlierMin = Number.POSITIVE_INFINITY;
    for (const [k, slot] of this.#slots) {
      slot.queued = slot.due;
      slot.earlier = false;
      this.#push(slot.due, k);
    }
  }

  #push(time: number, key: string): void {
    const times = this.#times;
    const keys = this.#keys;
    let i = times.length;
    times.push(time);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      keys[i] = keys[parent]!;
      i = parent;
    }
    times[i] = time;
    keys[i] = key;
  }

  #pop(): void {
    const times = this.#times;
    const keys = this.#keys;
    const lastT = times.pop()!;
    const lastK = keys.pop()!;
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
      keys[i] = keys[c]!;
      i = c;
    }
    times[i] = lastT;
    keys[i] = lastK;
  }
}
