/**
 * The Deno KV recovery backend (Deno only; needs the `--unstable-kv` flag).
 *
 * A store is a set of keys under a prefix (default `["weir"]`), every one of them under
 * `[...prefix, false]`:
 * ```text
 * [...prefix, false, "manifest"]                 the manifest (bytes)
 * [...prefix, false, "lease"]                    { holder, expiresAt, leaseMs }: the writer's lease
 * [...prefix, false, "token"]                    the fencing token (a counter bumped per claim)
 * [...prefix, false, "seg", name]                { chunks, bytes, crc32, gen }: the segment exists
 * [...prefix, false, "chunk", name, gen, i]      the segment's bytes, ≤ 60 KiB per chunk
 * ```
 * A prefix may not contain `false`, so stores under different prefixes never share a key,
 * even when one prefix extends the other (`["weir"]` and `["weir", "seg"]`): a key of the
 * store under P starts with P + [false], and for P ≠ Q without `false` the two are disjoint.
 *
 * Deno KV refuses values of 64 KiB or more and atomic commits of 1000 mutations or 800 KiB,
 * so a segment is split into chunks written by as many commits as needed, and only then made
 * visible by one last commit that writes its metadata record: a segment is one logical commit,
 * and a crash in the middle leaves chunks nobody lists. `gen` (fresh per write) keeps the
 * chunks of a rewrite apart from the ones the current record points at, so replacing a
 * segment is atomic too. Chunks that no record points at are deleted by `collectGarbage`,
 * which the store calls only while it holds the claim; reading never writes.
 *
 * One writer at a time: `claim()` takes the lease (see {@linkcode kvBackend}) and bumps the
 * fencing token in the same commit; while claimed, every commit checks the token, so a writer
 * whose lease was taken over fails its next commit and changes nothing.
 *
 * A commit of Deno KV's SQLite database is durable once `commit()` resolves.
 *
 * @module
 */
import type { RecoveryBackend } from "./backend.ts";
import { crc32 } from "./bytes.ts";
import { checkMode, formatKey, KvDatabase, whenNotBusy } from "./_kv_db.ts";
import {
  CHUNK_BYTES,
  chunkGroups,
  isMeta,
  KEYS_PER_READ,
  MAX_VALUE_BYTES,
  readChunks,
  type SegmentMeta,
} from "./_kv_chunks.ts";
import { DEFAULT_LEASE_MS, KvLease, MAX_LEASE_MS, MIN_LEASE_MS } from "./_kv_lease.ts";
// Resumes from this backend index keys and decode each on first use (lazy_keys.ts).
import "./lazy_state.ts";

/** Chunks per commit: 12 × 60 KiB = 720 KiB, below the 800 KiB a commit may carry. */
const CHUNKS_PER_COMMIT = 12;
/** Deletes per commit (a commit takes fewer than 1000 mutations). */
const DELETES_PER_COMMIT = 500;
/** Attempts at the metadata commit when another write to the same name races it. */
const META_ATTEMPTS = 10;
/** The key part under which every key of a store lies; refused in prefixes. */
const RESERVED = false;

/** Options of {@linkcode kvBackend}. */
export interface KvBackendOptions {
  /**
   * The key prefix (default `["weir"]`); every key of the store lies under
   * `[...prefix, false]`, so the prefix may not contain `false`. Several stores can share one
   * database under different prefixes, even prefixes that extend one another.
   *
   * @example
   * ```ts
   * import { kvBackend, type KvBackendOptions } from "@weir/weir/recovery/kv";
   * import { assertEquals } from "@std/assert";
   *
   * const options: KvBackendOptions = { prefix: ["stores", "orders"] };
   * const backend = kvBackend(":memory:", options);
   * assertEquals(backend.description, `Deno KV :memory: prefix ["stores","orders"]`);
   * ```
   */
  readonly prefix?: Deno.KvKey;
  /**
   * The lease time in ms (default 5000, from 100 to 600000): a claimed backend renews its
   * lease every quarter of it, and records it in the lease, so a run restarted after this
   * one crashed waits about this long before it takes the store over (whatever its own
   * `leaseMs`). A holder whose process stalls for longer than about three quarters of it
   * may lose the store to another run started meanwhile (and then fails its next commit).
   *
   * @example
   * ```ts
   * import { kvBackend } from "@weir/weir/recovery/kv";
   * import { assertEquals } from "@std/assert";
   *
   * const kv = await Deno.openKv(":memory:");
   * const backend = kvBackend(kv, { leaseMs: 2000 });
   * assertEquals(await backend.claim!(), true);
   * await backend.close(); // releases the lease: the next claim does not wait
   * assertEquals(await kvBackend(kv, { leaseMs: 2000 }).claim!(), true);
   * kv.close();
   * ```
   */
  readonly leaseMs?: number;
  /**
   * Permission bits of the database file when the backend creates it from a path
   * (default `0o600`: only its owner reads a store, which holds user data). Deno KV's
   * `-wal` and `-shm` files take the same. An existing file is left as it is.
   */
  readonly fileMode?: number;
  /** Permission bits of the directories the backend creates for the file (default `0o700`). */
  readonly dirMode?: number;
}

/**
 * A recovery backend over Deno KV: `Deno.openKv(pathOrUrl)` (opened on first use and closed
 * by `close()`, which a run does when it ends; the next use opens it again), or a `Deno.Kv`
 * you opened yourself (then `close()` leaves it open). Needs `--unstable-kv`.
 *
 * `":memory:"` as a path gives a database that is lost whenever the backend closes, that is
 * after every run; pass an open in-memory `Deno.Kv` instead to keep it across runs. A
 * database file the backend creates is private (mode 0600, new directories 0700) unless
 * `fileMode`/`dirMode` say otherwise.
 *
 * Keys: everything lies under `[...prefix, false]` (`manifest`, `lease`, `token`, `seg`,
 * `chunk`; see the module documentation), so no two prefixes collide.
 *
 * One writer at a time, by a lease and a fencing token. `claim()` (called by a run before
 * it writes) takes the lease when it is free, when its expiry is long past, or when it did
 * not change for a whole lease time (the holder's `leaseMs`, default 5 s, recorded in the
 * lease) on the claimant's own clock — a live holder renews it every quarter of that, so no
 * agreement between clocks is needed. (An expiry more than a minute past, on the claimant's
 * clock, is taken at once; clocks disagreeing by more than that could only fence out a live
 * holder, never let two runs write.) A process stopped in the middle of a commit holds
 * SQLite's write lock, so other processes' commits, and claims, wait until it resumes or dies.
 * Taking the lease bumps the fencing token in the same atomic commit, and every commit of a
 * claimed backend checks the token: a second run started while the first lives is refused
 * ("in use by another run") as soon as it sees a renewal; a run restarted after a crash
 * (SIGKILL) waits out one lease time, about 5 s, and proceeds; a writer that stalled past its
 * lease (stopped, suspended) and was taken over fails its next commit with an error saying it
 * lost its claim, writing nothing. `close()` releases the lease, so a clean restart does not
 * wait. Writes without a claim (`initStore`, tools) are allowed and not fenced.
 *
 * @param pathOrKv A database path or URL (default: Deno's default database for the script),
 *   or an open `Deno.Kv`.
 * @param options The key prefix (default `["weir"]`), the lease time, file modes.
 *
 * @example A flow resumed from a KV store in a file
 * ```ts
 * import { Dataflow, run } from "@weir/weir";
 * import { kvBackend } from "@weir/weir/recovery/kv";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const out: number[] = [];
 * const flow = new Dataflow("kv_demo");
 * flow.input("inp", new TestingSource([1, 2, TestingSource.EOF(), 3]))
 *   .output("out", new TestingSink(out));
 * const recovery = { backend: kvBackend(`${dir}/store.sqlite`), create: true };
 * await run(flow, { recovery });
 * await run(flow, { recovery });
 * assertEquals(out, [1, 2, 3]);
 * assertEquals((await Deno.stat(`${dir}/store.sqlite`)).mode! & 0o777, 0o600);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @example Your own `Deno.Kv`, with a prefix per store
 * ```ts
 * import { kvBackend } from "@weir/weir/recovery/kv";
 * import { assertEquals } from "@std/assert";
 *
 * const kv = await Deno.openKv(":memory:");
 * const backend = kvBackend(kv, { prefix: ["app", "weir"] });
 * await backend.writeSegment("delta-0000000000000001", new Uint8Array([1, 2, 3]));
 * await backend.close(); // leaves `kv` open
 * const again = kvBackend(kv, { prefix: ["app", "weir"] });
 * assertEquals(await again.listSegments(), ["delta-0000000000000001"]);
 * assertEquals(await again.readSegment("delta-0000000000000001"), new Uint8Array([1, 2, 3]));
 * assertEquals(await kvBackend(kv, { prefix: ["app"] }).listSegments(), []);
 * kv.close();
 * ```
 *
 * @example A second writer is refused while the first holds the store
 * ```ts
 * import { kvBackend } from "@weir/weir/recovery/kv";
 * import { assertEquals } from "@std/assert";
 *
 * const kv = await Deno.openKv(":memory:");
 * const first = kvBackend(kv, { leaseMs: 500 });
 * const second = kvBackend(kv, { leaseMs: 500 });
 * assertEquals(await first.claim!(), true);
 * assertEquals(await second.claim!(), false);
 * await first.close();
 * assertEquals(await second.claim!(), true);
 * await second.close();
 * kv.close();
 * ```
 */
export function kvBackend(
  pathOrKv?: string | Deno.Kv,
  options: KvBackendOptions = {},
): RecoveryBackend {
  return new KvBackend(pathOrKv, options);
}

class KvBackend implements RecoveryBackend {
  readonly description: string;
  private readonly db: KvDatabase;
  private readonly lease: KvLease;
  private readonly prefix: Deno.KvKey;
  private readonly manifestKey: Deno.KvKey;
  private readonly oldManifestKey: Deno.KvKey;
  private readonly segPrefix: Deno.KvKey;
  private readonly chunkPrefix: Deno.KvKey;
  /** `[name, gen]` of the segments this instance is writing (JSON), not to be cleaned up. */
  private readonly writing = new Set<string>();

  constructor(pathOrKv: string | Deno.Kv | undefined, options: KvBackendOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`kvBackend's options must be an object, got ${options}`);
    }
    const prefix = options.prefix ?? ["weir"];
    if (!Array.isArray(prefix)) {
      throw new TypeError(`prefix must be a Deno.KvKey (an array), got ${typeof prefix}`);
    }
    if (prefix.includes(RESERVED)) {
      throw new TypeError(
        `The prefix ${formatKey(prefix)} contains false, which kvBackend reserves: every key ` +
          `of a store lies under [...prefix, false], which keeps stores under different ` +
          `prefixes apart; use a prefix without false`,
      );
    }
    let path: string | undefined;
    let ownKv: Deno.Kv | undefined;
    if (pathOrKv !== undefined && typeof pathOrKv !== "string") {
      if (!(pathOrKv instanceof Deno.Kv)) {
        throw new TypeError("kvBackend takes a path, a URL or an open Deno.Kv");
      }
      ownKv = pathOrKv;
    } else {
      path = pathOrKv;
    }
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (
      typeof leaseMs !== "number" || !Number.isFinite(leaseMs) || leaseMs < MIN_LEASE_MS ||
      leaseMs > MAX_LEASE_MS
    ) {
      throw new RangeError(
        `leaseMs must be a number of ms from ${MIN_LEASE_MS} to ${MAX_LEASE_MS}, got ${leaseMs}`,
      );
    }
    const fileMode = checkMode("fileMode", options.fileMode, 0o600);
    const dirMode = checkMode("dirMode", options.dirMode, 0o700);
    this.prefix = [...prefix];
    const root = [...prefix, RESERVED];
    this.manifestKey = [...root, "manifest"];
    this.oldManifestKey = [...prefix, "manifest"];
    this.segPrefix = [...root, "seg"];
    this.chunkPrefix = [...root, "chunk"];
    const where = ownKv !== undefined
      ? "(an open Deno.Kv)"
      : path === undefined
      ? "(the default database)"
      : path;
    this.description = `Deno KV ${where} prefix ${formatKey(this.prefix)}`;
    this.db = new KvDatabase(path, ownKv, fileMode, dirMode, this.description);
    this.lease = new KvLease([...root, "lease"], [...root, "token"], leaseMs, this.description);
  }

  async readManifest(): Promise<Uint8Array | undefined> {
    const kv = await this.db.get(false);
    if (kv === undefined) return undefined;
    const [{ value }, old] = await kv.getMany([this.manifestKey, this.oldManifestKey]);
    if (value === null) {
      if (old.value !== null) {
        throw new Error(
          `${this.description} holds a recovery store in the key layout of an earlier weir ` +
            `version (its manifest is at ${formatKey(this.oldManifestKey)}; this version ` +
            `keeps a store's keys under ${formatKey([...this.prefix, RESERVED])}). Finish it ` +
            `with the earlier version, or delete its keys, or use another prefix`,
        );
      }
      return undefined;
    }
    if (!(value instanceof Uint8Array)) {
      throw new Error(`The manifest in ${this.description} is not bytes: the store is damaged`);
    }
    return value;
  }

  async writeManifest(bytes: Uint8Array): Promise<void> {
    const kv = await this.db.forWrite();
    const what = "writing the manifest";
    await this.lease.commit(kv, this.lease.atomic(kv, what).set(this.manifestKey, bytes), what);
  }

  async listSegments(): Promise<string[]> {
    const kv = await this.db.get(false);
    if (kv === undefined) return [];
    return [...(await this.records(kv)).keys()];
  }

  /** Every segment record: name → value (read only). */
  private async records(kv: Deno.Kv): Promise<Map<string, unknown>> {
    const metas = new Map<string, unknown>();
    for await (const e of kv.list({ prefix: this.segPrefix })) {
      const name = e.key[this.segPrefix.length];
      if (typeof name === "string" && e.key.length === this.segPrefix.length + 1) {
        metas.set(name, e.value);
      }
    }
    return metas;
  }

  /**
   * Deletes chunk groups no record points at: left by a crash (or a failed write) before
   * its record was committed, or by a rewrite or delete interrupted after it. Called by the
   * store while it holds the claim, so no other writer has chunks in progress; this
   * instance's own writes in progress are spared. Order matters: chunk groups first, then
   * the writes in progress, then the records, so a write of this instance finishing in
   * between is never taken for garbage.
   */
  async collectGarbage(): Promise<void> {
    const kv = await this.db.get(false);
    if (kv === undefined) return;
    const groups = await chunkGroups(kv, this.chunkPrefix);
    const writing = new Set(this.writing);
    const metas = await this.records(kv);
    for (const [name, gen] of groups) {
      const meta = metas.get(name);
      const live = isMeta(meta) && meta.gen === gen;
      if (!live && !writing.has(JSON.stringify([name, gen]))) {
        await this.deleteListed(kv, [...this.chunkPrefix, name, gen]);
      }
    }
  }

  async readSegment(name: string): Promise<Uint8Array> {
    const kv = await this.db.get(false);
    const entry = kv === undefined ? undefined : await kv.get([...this.segPrefix, name]);
    if (kv === undefined || entry === undefined || entry.value === null) {
      throw new Error(`Segment ${name} does not exist in ${this.description}`);
    }
    const meta = entry.value;
    if (!isMeta(meta) || meta.bytes > meta.chunks * MAX_VALUE_BYTES) {
      throw new Error(
        `Segment ${name} in ${this.description} is damaged: its metadata record is malformed`,
      );
    }
    return await readChunks(
      kv,
      [...this.chunkPrefix, name, meta.gen],
      name,
      meta,
      this.description,
    );
  }

  async writeSegment(name: string, bytes: Uint8Array): Promise<void> {
    const kv = await this.db.forWrite();
    const what = `writing segment ${name}`;
    const gen = crypto.randomUUID();
    const token = JSON.stringify([name, gen]);
    const chunks = Math.ceil(bytes.length / CHUNK_BYTES);
    const meta: SegmentMeta = { chunks, bytes: bytes.length, crc32: crc32(bytes), gen };
    const metaKey = [...this.segPrefix, name];
    let previous: unknown = null;
    this.writing.add(token);
    try {
      for (let c = 0; c < chunks; c += CHUNKS_PER_COMMIT) {
        const op = this.lease.atomic(kv, what);
        for (let i = c; i < Math.min(chunks, c + CHUNKS_PER_COMMIT); i++) {
          op.set(
            [...this.chunkPrefix, name, gen, i],
            bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
          );
        }
        await this.lease.commit(kv, op, what);
      }
      // The commit that makes the segment exist, replacing an earlier record of the name.
      let done = false;
      for (let attempt = 0; attempt < META_ATTEMPTS && !done; attempt++) {
        const current = await kv.get(metaKey);
        const op = this.lease.atomic(kv, what).check(current).set(metaKey, meta);
        const res = await whenNotBusy(() => op.commit());
        if (res.ok) {
          previous = current.value;
          done = true;
        } else {
          // The record changed meanwhile, or the claim was lost (then this throws).
          await this.lease.checkFence(kv, what);
        }
      }
      if (!done) {
        throw new Error(
          `Cannot commit segment ${name} to ${this.description}: its record kept changing ` +
            `(${META_ATTEMPTS} attempts)`,
        );
      }
    } finally {
      // On failure the chunks stay, unlisted, until collectGarbage removes them.
      this.writing.delete(token);
    }
    if (isMeta(previous) && previous.gen !== gen) {
      await this.deleteChunks(kv, name, previous);
    }
  }

  async deleteSegments(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const kv = await this.db.get(false);
    if (kv === undefined) return;
    const keys = [...new Set(names)].map((n) => [...this.segPrefix, n]);
    const found: Array<[string, unknown]> = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
      for (const e of await kv.getMany<unknown[]>(keys.slice(i, i + KEYS_PER_READ))) {
        if (e.value !== null) found.push([e.key[this.segPrefix.length] as string, e.value]);
      }
    }
    // Records first: from here on the segments do not exist; their chunks are garbage that
    // collectGarbage would remove if this were interrupted.
    const what = "deleting segments";
    for (let i = 0; i < found.length; i += DELETES_PER_COMMIT) {
      const op = this.lease.atomic(kv, what);
      for (const [name] of found.slice(i, i + DELETES_PER_COMMIT)) {
        op.delete([...this.segPrefix, name]);
      }
      await this.lease.commit(kv, op, what);
    }
    for (const [name, meta] of found) {
      if (isMeta(meta)) await this.deleteChunks(kv, name, meta);
    }
  }

  /** Deletes the chunks a record points at (their keys are known: nothing to read). */
  private async deleteChunks(kv: Deno.Kv, name: string, meta: SegmentMeta): Promise<void> {
    const what = `deleting the chunks of segment ${name}`;
    for (let c = 0; c < meta.chunks; c += DELETES_PER_COMMIT) {
      const op = this.lease.atomic(kv, what);
      for (let i = c; i < Math.min(meta.chunks, c + DELETES_PER_COMMIT); i++) {
        op.delete([...this.chunkPrefix, name, meta.gen, i]);
      }
      await this.lease.commit(kv, op, what);
    }
  }

  /** Deletes every key under `prefix` (for chunks of unknown count). */
  private async deleteListed(kv: Deno.Kv, prefix: Deno.KvKey): Promise<void> {
    const what = "deleting orphaned chunks";
    for (;;) {
      const keys: Deno.KvKey[] = [];
      for await (const e of kv.list({ prefix }, { limit: DELETES_PER_COMMIT })) keys.push(e.key);
      if (keys.length === 0) return;
      const op = this.lease.atomic(kv, what);
      for (const k of keys) op.delete(k);
      await this.lease.commit(kv, op, what);
    }
  }

  /**
   * Takes the lease (see {@linkcode kvBackend}): at once when it is free or its expiry is
   * long past; otherwise after watching it for a whole lease time without a change.
   * Resolves `false` as soon as the lease changes while watched (its holder renewed it) or
   * belongs to a live backend of this process.
   */
  async claim(): Promise<boolean> {
    return await this.lease.claim(await this.db.forWrite());
  }

  async close(): Promise<void> {
    await this.lease.release();
    await this.db.close();
  }
}
