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

  /** Sets (or moves) the deadline of `key`. */
  set(key: string, time: number): void {
    if (this.#due.get(key) === time) return;
    this.#due.set(key, time);
    this.#push(time, key);
    // Stale entries accumulate when deadlines move often; rebuild when they dominate.
    if (this.#times.length > 64 && this.#times.length > 4 * this.#due.size) this.#rebuild();
  }

  /** Removes the deadline of `key`. */
  delete(key: string): void {
    this.#due.delete(key);
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
      out.push([t, key]);
    }
    out.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return out;
  }

  #dropStale(): void {
    while (this.#times.length > 0 && this.#due.get(this.#keys[0]!) !== this.#times[0]) this.#pop();
  }

  #rebuild(): void {
    this.#times = [];
    this.#keys = [];
    for (const [k, t] of this.#due) this.#push(t, k);
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
