/**
 * Lazy resume: a stateful step's entries are logged as byte offsets into the segments a
 * resumed run loads ({@linkcode LazyIndex}, a raw segment visitor), and each key's snapshot is
 * decoded only when the step asks for it ({@linkcode LazyStepState}): on the key's first item,
 * or when the step goes through the keys it has not used yet (timers, EOF).
 *
 * Loading then costs reading and checking the segments plus one hash of each key's bytes. The
 * keys are split by hash into buckets of about a thousand, and a bucket's hash table (which
 * also drops the entries a later segment replaced) is built when a key of it is first asked
 * for: small tables that stay in the CPU's cache, instead of a million inserts into one table
 * (or one `Map`) before the run can start.
 *
 * The state holds the segments' bytes until every key was taken. Nothing here writes: keys a
 * run never uses stay in the store's segments as they were, and folding keeps them.
 *
 * @module
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import { type ClassSerde, readValue } from "./codec.ts";
import { DataflowError } from "../errors.ts";
import { RecoveryError } from "./errors.ts";
import { type LazyKeys, registerLazyIndex } from "./lazy_keys.ts";
import type { RawSegmentVisitor, SnapshotKind } from "./segment.ts";

/** Where the indexed segments are, for decoding and error messages. */
interface Segments {
  readonly bytes: Uint8Array[];
  /** A reader over each segment (moved to an entry by setting `pos`). */
  readonly readers: ByteReader[];
  readonly names: string[];
  readonly classes: readonly ClassSerde[];
  /** The store's backend description. */
  readonly description: string;
}

/**
 * One step's entries in the order the segments hold them: segment, key bytes, value end (-1:
 * not a live snapshot — a discard, a key taken, or an entry a later one replaced), key hash.
 */
class EntryLog {
  seg: Int32Array = new Int32Array(1024);
  keyStart: Int32Array = new Int32Array(1024);
  keyEnd: Int32Array = new Int32Array(1024);
  end: Int32Array = new Int32Array(1024);
  hash: Int32Array = new Int32Array(1024);
  n = 0;
  /** Entries that are snapshots (not discards). */
  live = 0;

  constructor(readonly kind: SnapshotKind, readonly stepId: string) {}

  add(seg: number, keyStart: number, keyEnd: number, end: number, hash: number): void {
    const n = this.n++;
    if (n === this.seg.length) {
      const more = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.seg = more(this.seg);
      this.keyStart = more(this.keyStart);
      this.keyEnd = more(this.keyEnd);
      this.end = more(this.end);
      this.hash = more(this.hash);
    }
    this.seg[n] = seg;
    this.keyStart[n] = keyStart;
    this.keyEnd[n] = keyEnd;
    this.end[n] = end;
    this.hash[n] = hash;
    if (end >= 0) this.live++;
  }
}

/** The FNV-1a hash of `bytes[start, end)`. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** Entries per bucket, about. */
const BUCKET_ENTRIES = 1024;
/**
 * Buckets take the hash's bits from this one up (at most 20 of them), the tables' slots its
 * low bits: independent choices.
 */
const BUCKET_SHIFT = 12;

/**
 * The restored keys of one stateful step, decoded on first use. Each key is handed out once
 * ({@linkcode LazyStepState.take} or {@linkcode LazyStepState.takeSome}); then the step owns
 * it and this state no longer holds it.
 */
export class LazyStepState implements LazyKeys {
  /** Live entries not taken (an upper bound until every bucket was built). */
  #left = 0;
  /** `takeSome` went through `#order` up to here. */
  #cursor = 0;
  readonly #scratch = new ByteWriter(256);
  /** A hash's bucket is `(hash >>> BUCKET_SHIFT) & #bucketMask`. */
  readonly #bucketMask: number;
  /** Bucket `b`'s entries are `#order[#start[b], #start[b + 1])`, oldest first. */
  readonly #start: Int32Array;
  readonly #order: Int32Array;
  /** The entries' hashes in `#order`'s order (building a bucket's table reads them in a row). */
  readonly #orderHash: Int32Array;
  /** Buckets whose table is built. */
  #built = 0;
  /** Per bucket, once built: open addressing, a (hash, entry) pair per slot (entry -1: free). */
  readonly #tables: Array<Int32Array | undefined>;

  /**
   * @param stepId The step the keys belong to.
   * @param log The step's entries.
   * @param segs The segments the log points into.
   */
  constructor(
    readonly stepId: string,
    private readonly log: EntryLog,
    private segs: Segments | undefined,
  ) {
    const n = log.n;
    this.#left = log.live;
    let bits = 0;
    while (bits < 20 && (n >>> bits) > BUCKET_ENTRIES) bits++;
    const buckets = 1 << bits;
    const mask = buckets - 1;
    this.#bucketMask = mask;
    // Partition the entries by bucket (a stable counting sort: each bucket keeps their order).
    const start = new Int32Array(buckets + 1);
    const hash = log.hash;
    for (let e = 0; e < n; e++) start[((hash[e]! >>> BUCKET_SHIFT) & mask) + 1]!++;
    for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
    const fill = start.slice(0, buckets);
    const order = new Int32Array(n);
    const orderHash = new Int32Array(n);
    for (let e = 0; e < n; e++) {
      const h = hash[e]!;
      const i = fill[(h >>> BUCKET_SHIFT) & mask]!++;
      order[i] = e;
      orderHash[i] = h;
    }
    this.#start = start;
    this.#order = order;
    this.#orderHash = orderHash;
    this.#tables = new Array(buckets).fill(undefined);
    if (this.#left === 0) this.segs = undefined;
  }

  /** How many keys it still holds (at most; entries a later one replaced count until found). */
  get size(): number {
    return this.#left;
  }

  /**
   * Takes `key` if it holds it: calls `fn` with it and its decoded snapshot (which it no longer
   * holds after) and returns true; false when it does not hold the key. Throws a
   * `DataflowError` for the step and key, whose cause (a `RecoveryError`) names the segment,
   * when the snapshot cannot be decoded.
   */
  take(key: string, fn: (key: string, snapshot: unknown) => void): boolean {
    if (this.#left === 0) return false;
    const w = this.#scratch;
    w.pos = 0;
    w.string(key);
    const h = hashBytes(w.buf, 0, w.pos) | 0;
    const table = this.#table(this.#bucketOf(h));
    const e = this.#find(table, w.buf, 0, w.pos, h);
    if (e < 0 || this.log.end[e]! < 0) return false;
    fn(key, this.#takeEntry(e, key));
    return true;
  }

  /**
   * Takes up to `limit` keys it still holds, in the order the store first recorded them,
   * calling `fn` with each and its snapshot. Returns how many it took. The first call builds
   * every bucket's table not built yet (to know which entries later ones replaced).
   */
  takeSome(limit: number, fn: (key: string, snapshot: unknown) => void): number {
    this.#buildAll();
    const log = this.log;
    let taken = 0;
    while (taken < limit && this.#left > 0 && this.#cursor < log.n) {
      const e = this.#cursor++;
      if (log.end[e]! < 0) continue;
      const r = this.segs!.readers[log.seg[e]!]!;
      r.pos = log.keyStart[e]!;
      const key = r.string();
      const snapshot = this.#takeEntry(e, key);
      taken++;
      fn(key, snapshot);
    }
    if (this.#cursor >= log.n) this.#release();
    return taken;
  }

  /** The keys it still holds (decoded), in the order `takeSome` would take them. */
  *keys(): IterableIterator<string> {
    this.#buildAll();
    const log = this.log;
    for (let e = this.#cursor; e < log.n && this.segs !== undefined; e++) {
      if (log.end[e]! < 0) continue;
      const r = this.segs.readers[log.seg[e]!]!;
      r.pos = log.keyStart[e]!;
      yield r.string();
    }
  }

  #buildAll(): void {
    if (this.segs === undefined || this.#built === this.#tables.length) return;
    for (let b = 0; b < this.#tables.length; b++) this.#table(b);
  }

  #bucketOf(h: number): number {
    return (h >>> BUCKET_SHIFT) & this.#bucketMask;
  }

  /** Bucket `b`'s table, built on first use: the latest entry of each key wins. */
  #table(b: number): Int32Array {
    const built = this.#tables[b];
    if (built !== undefined) return built;
    const from = this.#start[b]!;
    const to = this.#start[b + 1]!;
    let size = 4;
    while (size < (to - from) * 4) size *= 2;
    const table = new Int32Array(size).fill(-1);
    const log = this.log;
    const mask = size - 2;
    const order = this.#order;
    const orderHash = this.#orderHash;
    for (let i = from; i < to; i++) {
      const e = order[i]!;
      const h = orderHash[i]!;
      let s = (h << 1) & mask;
      for (; table[s + 1] !== -1; s = (s + 2) & mask) {
        if (table[s] !== h) continue;
        const bytes = this.segs!.bytes[log.seg[e]!]!;
        if (!this.#sameKey(table[s + 1]!, bytes, log.keyStart[e]!, log.keyEnd[e]!)) continue;
        const old = table[s + 1]!;
        if (log.end[old]! >= 0) {
          log.end[old] = -1; // replaced by a later entry
          this.#left--;
        }
        break;
      }
      table[s] = h;
      table[s + 1] = e;
    }
    this.#tables[b] = table;
    this.#built++;
    return table;
  }

  #find(table: Int32Array, bytes: Uint8Array, start: number, end: number, h: number): number {
    const mask = table.length - 2;
    for (let s = (h << 1) & mask; table[s + 1] !== -1; s = (s + 2) & mask) {
      if (table[s] === h && this.#sameKey(table[s + 1]!, bytes, start, end)) return table[s + 1]!;
    }
    return -1;
  }

  /** Whether entry `e`'s key bytes are `bytes[start, end)`. */
  #sameKey(e: number, bytes: Uint8Array, start: number, end: number): boolean {
    const log = this.log;
    const os = log.keyStart[e]!;
    const len = end - start;
    if (log.keyEnd[e]! - os !== len) return false;
    const other = this.segs!.bytes[log.seg[e]!]!;
    for (let k = 0; k < len; k++) if (other[os + k] !== bytes[start + k]) return false;
    return true;
  }

  #takeEntry(e: number, key: string): unknown {
    const log = this.log;
    const segs = this.segs!;
    const seg = log.seg[e]!;
    const end = log.end[e]!;
    log.end[e] = -1;
    if (--this.#left === 0) this.#release();
    try {
      const r = segs.readers[seg]!;
      r.pos = log.keyEnd[e]!;
      const value = readValue(r, segs.classes);
      if (r.pos !== end) throw new RangeError(`the value ends at byte ${r.pos}, not ${end}`);
      return value;
    } catch (err) {
      throw new DataflowError(this.stepId, "", {
        key,
        cause: new RecoveryError(
          `Cannot restore key ${JSON.stringify(key)} of step ${this.stepId} from segment ` +
            `${segs.names[seg]} of the recovery store in ${segs.description}: ` +
            `${(err as Error)?.message ?? err}`,
          { cause: err },
        ),
      });
    }
  }

  /** Holds no key any more: lets go of the segments' bytes. */
  #release(): void {
    this.#left = 0;
    this.segs = undefined;
  }
}

/**
 * Logs the entries a segment reader hands it undecoded (the steps whose visitor asked for it,
 * see `readSegment`), per step, across the segments in the order they are read; a drop
 * forgets the step's entries as a load would.
 */
export class LazyIndex implements RawSegmentVisitor {
  readonly #segs: Segments;
  readonly #logs = new Map<string, EntryLog>();
  #log: EntryLog | undefined = undefined;
  #kind: SnapshotKind = "state";
  #stepId = "";

  /**
   * @param classes Class serdes for the values.
   * @param description The store's backend description (for error messages).
   */
  constructor(classes: readonly ClassSerde[], description: string) {
    this.#segs = { bytes: [], readers: [], names: [], classes, description };
  }

  /** The segment whose entries follow (call before reading it). */
  segment(name: string, bytes: Uint8Array): void {
    this.#segs.bytes.push(bytes);
    this.#segs.readers.push(new ByteReader(bytes));
    this.#segs.names.push(name);
  }

  step(kind: SnapshotKind, stepId: string): void {
    this.#kind = kind;
    this.#stepId = stepId;
    this.#log = undefined;
  }

  put(keyStart: number, valueStart: number, end: number): void {
    this.#add(keyStart, valueStart, end);
  }

  del(keyStart: number, end: number): void {
    this.#add(keyStart, end, -1);
  }

  #add(keyStart: number, keyEnd: number, end: number): void {
    const segs = this.#segs.bytes;
    const bytes = segs[segs.length - 1]!;
    const log = this.#log ??= this.#logFor();
    log.add(segs.length - 1, keyStart, keyEnd, end, hashBytes(bytes, keyStart, keyEnd) | 0);
  }

  drop(kind: SnapshotKind, stepId: string): void {
    this.#logs.delete(kind + ":" + stepId);
    if (kind === this.#kind && stepId === this.#stepId) this.#log = undefined;
  }

  #logFor(): EntryLog {
    const k = this.#kind + ":" + this.#stepId;
    let log = this.#logs.get(k);
    if (log === undefined) this.#logs.set(k, log = new EntryLog(this.#kind, this.#stepId));
    return log;
  }

  /** Each logged step's state. */
  *states(): IterableIterator<[SnapshotKind, string, LazyStepState]> {
    for (const log of this.#logs.values()) {
      yield [log.kind, log.stepId, new LazyStepState(log.stepId, log, this.#segs)];
    }
  }
}

registerLazyIndex((classes, description) => new LazyIndex(classes, description));
