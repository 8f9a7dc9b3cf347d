/**
 * A per-key timer queue: at most one deadline per key, the earliest found in O(log n).
 *
 * A binary min-heap of (time, key) with lazy deletion: `set` and `delete` only update the
 * key → time map; stale heap entries are skipped when they reach the top.
 *
 * @module
 */

/** Deadlines by key. */
export class KeyTimers {
  readonly #due = new Map<string, number>();
  /** The time of each key's live heap entry (≤ its deadline). */
  readonly #queued = new Map<string, number>();
  #times: number[] = [];
  #keys: string[] = [];

  /** How many keys have a deadline. */
  get size(): number {
    return this.#due.size;
  }

  /** The deadline of `key`, if any. */
  get(key: string): number | undefined {
    return this.#due.get(key);
  }

  /**
   * Sets (or moves) the deadline of `key`. Moving a deadline later pushes nothing: the key's
   * earlier heap entry is re-queued at the new time when it surfaces (deadlines that keep
   * moving later, like window closes under a rising watermark, stay cheap).
   */
  set(key: string, time: number): void {
    const current = this.#due.get(key);
    if (current === time) return;
    this.#due.set(key, time);
    const queued = this.#queued.get(key);
    if (queued !== undefined && queued <= time) return;
    this.#queued.set(key, time);
    this.#push(time, key);
    // Stale entries accumulate when deadlines move earlier often; rebuild when they dominate.
    if (this.#times.length > 64 && this.#times.length > 4 * this.#due.size) this.#rebuild();
  }

  /** Removes the deadline of `key`. */
  delete(key: string): void {
    this.#due.delete(key);
    this.#queued.delete(key);
  }

  /** The earliest deadline, or `undefined`. */
  peek(): number | undefined {
    this.#dropStale();
    return this.#times[0];
  }

  /**
   * Removes and returns the `[time, key]` pairs whose deadline is `<= now`, earliest first
   * (ties by key), so the order is deterministic.
   */
  popDue(now: number): Array<[time: number, key: string]> {
    const out: Array<[number, string]> = [];
    for (;;) {
      this.#dropStale();
      const t = this.#times[0];
      if (t === undefined || t > now) break;
      const key = this.#keys[0]!;
      this.#pop();
      this.#due.delete(key);
      this.#queued.delete(key);
      out.push([t, key]);
    }
    out.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return out;
  }

  /** Makes the heap's top a live entry: drops stale ones, re-queues ones moved later. */
  #dropStale(): void {
    while (this.#times.length > 0) {
      const t = this.#times[0]!;
      const key = this.#keys[0]!;
      const due = this.#due.get(key);
      if (due === t) return;
      this.#pop();
      if (due === undefined || this.#queued.get(key) !== t) continue; // an older duplicate
      // The deadline moved later since this entry was queued.
      this.#queued.set(key, due);
      this.#push(due, key);
    }
  }

  #rebuild(): void {
    this.#times = [];
    this.#keys = [];
    this.#queued.clear();
    for (const [k, t] of this.#due) {
      this.#queued.set(k, t);
      this.#push(t, k);
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
