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
import { crc32 } from "./codec.ts";

/** Bytes per chunk: below Deno KV's 64 KiB value limit. */
const CHUNK_BYTES = 60 * 1024;
/** Deno KV's largest value. */
const MAX_VALUE_BYTES = 65536;
/** Chunks per commit: 12 × 60 KiB = 720 KiB, below the 800 KiB a commit may carry. */
const CHUNKS_PER_COMMIT = 12;
/** Deletes per commit (a commit takes fewer than 1000 mutations). */
const DELETES_PER_COMMIT = 500;
/** Keys per `getMany` (Deno KV reads at most 10 ranges at once). */
const KEYS_PER_READ = 10;
/** Attempts at the metadata commit when another write to the same name races it. */
const META_ATTEMPTS = 10;
/** The key part under which every key of a store lies; refused in prefixes. */
const RESERVED = false;
/** Default lease time: a restart after a crash waits about this long. */
const DEFAULT_LEASE_MS = 5000;
/** Bounds of `leaseMs`. */
const MIN_LEASE_MS = 100;
const MAX_LEASE_MS = 600_000;
/** Renewals per lease time: a holder may miss up to three in a row and keep its lease. */
const RENEWALS_PER_LEASE = 4;
/**
 * A lease whose expiry lies this far in the past (on the claimant's clock) is taken at
 * once, without watching it: clocks may disagree by less than this. A wrong guess cannot
 * corrupt the store: the fenced holder fails its next commit.
 */
const LONG_PAST_MS = 60_000;
/** Attempts at taking the lease when other claimants race for it. */
const CLAIM_ATTEMPTS = 10;

/** Holders of leases claimed by backends of this process (refused without watching). */
const LIVE_HOLDERS = new Set<string>();

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

/** A segment's metadata record. */
interface SegmentMeta {
  readonly chunks: number;
  readonly bytes: number;
  readonly crc32: number;
  readonly gen: string;
}

/** The lease record. `expiresAt` is on the holder's clock (ms since 1970). */
interface Lease {
  readonly holder: string;
  readonly expiresAt: number;
  readonly leaseMs: number;
}

class KvBackend implements RecoveryBackend {
  readonly description: string;
  private readonly path: string | undefined;
  private readonly ownKv: Deno.Kv | undefined;
  private opening: Promise<Deno.Kv> | undefined;
  private readonly prefix: Deno.KvKey;
  private readonly leaseMs: number;
  private readonly fileMode: number;
  private readonly dirMode: number;
  private readonly manifestKey: Deno.KvKey;
  private readonly oldManifestKey: Deno.KvKey;
  private readonly leaseKey: Deno.KvKey;
  private readonly tokenKey: Deno.KvKey;
  private readonly segPrefix: Deno.KvKey;
  private readonly chunkPrefix: Deno.KvKey;
  /** `[name, gen]` of the segments this instance is writing (JSON), not to be cleaned up. */
  private readonly writing = new Set<string>();
  /** While claimed: the lease's holder id, the database and the token's versionstamp. */
  private holder: string | undefined;
  private claimedKv: Deno.Kv | undefined;
  private tokenStamp: string | undefined;
  /** Set when another run took the store over; every later write throws. */
  private lost = false;
  private renewTimer: ReturnType<typeof setInterval> | undefined;
  private renewing: Promise<void> | undefined;

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
    if (pathOrKv !== undefined && typeof pathOrKv !== "string") {
      if (!(pathOrKv instanceof Deno.Kv)) {
        throw new TypeError("kvBackend takes a path, a URL or an open Deno.Kv");
      }
      this.ownKv = pathOrKv;
    } else {
      this.path = pathOrKv;
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
    this.leaseMs = leaseMs;
    this.fileMode = checkMode("fileMode", options.fileMode, 0o600);
    this.dirMode = checkMode("dirMode", options.dirMode, 0o700);
    this.prefix = [...prefix];
    const root = [...prefix, RESERVED];
    this.manifestKey = [...root, "manifest"];
    this.oldManifestKey = [...prefix, "manifest"];
    this.leaseKey = [...root, "lease"];
    this.tokenKey = [...root, "token"];
    this.segPrefix = [...root, "seg"];
    this.chunkPrefix = [...root, "chunk"];
    const where = this.ownKv !== undefined
      ? "(an open Deno.Kv)"
      : this.path === undefined
      ? "(the default database)"
      : this.path;
    this.description = `Deno KV ${where} prefix ${formatKey(this.prefix)}`;
  }

  /** A path of a file on disk (not `:memory:`, not a URL, not the default database). */
  private get filePath(): string | undefined {
    const p = this.path;
    if (p === undefined || p === "" || p === ":memory:" || /^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
      return undefined;
    }
    return p;
  }

  /**
   * The database, opened on first use. With `create` false, a database file that does not
   * exist is not created: resolves `undefined` instead.
   */
  private async kv(create: boolean): Promise<Deno.Kv | undefined> {
    if (this.ownKv !== undefined) return this.ownKv;
    if (this.opening === undefined) {
      const file = this.filePath;
      if (file !== undefined && !(await exists(file))) {
        if (!create) return undefined;
        this.checkUnstable();
        await this.createFile(file);
      }
      if (this.opening === undefined) {
        this.checkUnstable();
        const path = this.path;
        const opening = whenNotBusy(() => Deno.openKv(path));
        this.opening = opening;
        opening.catch(() => {
          if (this.opening === opening) this.opening = undefined;
        });
      }
    }
    return await this.opening;
  }

  private checkUnstable(): void {
    if (typeof Deno.openKv !== "function") {
      throw new Error(
        `Cannot open ${this.description}: Deno KV is unstable; run with --unstable-kv`,
      );
    }
  }

  /**
   * Creates the database file empty (SQLite takes an empty file as a new database) with
   * `fileMode`, and its missing parent directories with `dirMode`, so that the store is
   * never readable by others, not even for an instant. SQLite gives its `-wal` and `-shm`
   * files the database file's mode.
   */
  private async createFile(file: string): Promise<void> {
    const created: string[] = [];
    for (let dir = parentOf(file); dir !== undefined; dir = parentOf(dir)) {
      if (await exists(dir)) break;
      created.push(dir);
    }
    if (created.length > 0) {
      await Deno.mkdir(created[0]!, { recursive: true, mode: this.dirMode });
    }
    let f: Deno.FsFile;
    try {
      f = await Deno.open(file, { write: true, createNew: true, mode: this.fileMode });
    } catch (err) {
      // Created meanwhile (another backend, another process): leave it as it is.
      if (err instanceof Deno.errors.AlreadyExists) return;
      throw err;
    }
    f.close();
    if (Deno.build.os !== "windows") {
      // The modes above were narrowed by the umask; widen them to exactly what was asked.
      await Deno.chmod(file, this.fileMode);
      for (const dir of created) await Deno.chmod(dir, this.dirMode);
    }
  }

  private async kvForWrite(): Promise<Deno.Kv> {
    return (await this.kv(true))!;
  }

  async readManifest(): Promise<Uint8Array | undefined> {
    const kv = await this.kv(false);
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
    const kv = await this.kvForWrite();
    const what = "writing the manifest";
    await this.commit(kv, this.atomic(kv, what).set(this.manifestKey, bytes), what);
  }

  async listSegments(): Promise<string[]> {
    const kv = await this.kv(false);
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
    const kv = await this.kv(false);
    if (kv === undefined) return;
    const groups = await this.chunkGroups(kv);
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

  /** Every `[name, gen]` with chunks, reading one chunk per group (a skip scan). */
  private async chunkGroups(kv: Deno.Kv): Promise<Array<[string, string]>> {
    const groups: Array<[string, string]> = [];
    const n = this.chunkPrefix.length;
    let start: Deno.KvKey | undefined;
    for (;;) {
      const selector = start === undefined
        ? { prefix: this.chunkPrefix }
        : { prefix: this.chunkPrefix, start };
      let key: Deno.KvKey | undefined;
      for await (const e of kv.list(selector, { limit: 1 })) key = e.key;
      if (key === undefined) return groups;
      const name = key[n];
      const gen = key[n + 1];
      if (typeof name === "string" && typeof gen === "string") {
        groups.push([name, gen]);
        // Chunk indexes are numbers; booleans sort after every number.
        start = [...this.chunkPrefix, name, gen, true];
      } else {
        // Not a key this backend writes; step over it.
        start = [...key, true];
      }
    }
  }

  async readSegment(name: string): Promise<Uint8Array> {
    const kv = await this.kv(false);
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
    const out = new Uint8Array(meta.bytes);
    let pos = 0;
    for (let i = 0; i < meta.chunks; i += KEYS_PER_READ) {
      const keys: Deno.KvKey[] = [];
      for (let j = i; j < Math.min(meta.chunks, i + KEYS_PER_READ); j++) {
        keys.push([...this.chunkPrefix, name, meta.gen, j]);
      }
      const entries = await kv.getMany<unknown[]>(keys);
      for (let j = 0; j < entries.length; j++) {
        const v = entries[j]!.value;
        if (!(v instanceof Uint8Array)) {
          throw new Error(
            `Segment ${name} in ${this.description} is damaged: chunk ${i + j} of ` +
              `${meta.chunks} is ${v === null ? "missing" : "not bytes"}`,
          );
        }
        if (pos + v.length > meta.bytes) {
          throw new Error(
            `Segment ${name} in ${this.description} is damaged: its chunks hold more than ` +
              `the ${meta.bytes} bytes its metadata records`,
          );
        }
        out.set(v, pos);
        pos += v.length;
      }
    }
    if (pos !== meta.bytes) {
      throw new Error(
        `Segment ${name} in ${this.description} is damaged: its chunks hold ${pos} bytes, ` +
          `its metadata records ${meta.bytes}`,
      );
    }
    const crc = crc32(out);
    if (crc !== meta.crc32) {
      throw new Error(
        `Segment ${name} in ${this.description} is damaged: CRC-32 ${crc} of its bytes ` +
          `differs from the ${meta.crc32} its metadata records`,
      );
    }
    return out;
  }

  async writeSegment(name: string, bytes: Uint8Array): Promise<void> {
    const kv = await this.kvForWrite();
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
        const op = this.atomic(kv, what);
        for (let i = c; i < Math.min(chunks, c + CHUNKS_PER_COMMIT); i++) {
          op.set(
            [...this.chunkPrefix, name, gen, i],
            bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
          );
        }
        await this.commit(kv, op, what);
      }
      // The commit that makes the segment exist, replacing an earlier record of the name.
      let done = false;
      for (let attempt = 0; attempt < META_ATTEMPTS && !done; attempt++) {
        const current = await kv.get(metaKey);
        const op = this.atomic(kv, what).check(current).set(metaKey, meta);
        const res = await whenNotBusy(() => op.commit());
        if (res.ok) {
          previous = current.value;
          done = true;
        } else {
          // The record changed meanwhile, or the claim was lost (then this throws).
          await this.checkFence(kv, what);
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
    const kv = await this.kv(false);
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
      const op = this.atomic(kv, what);
      for (const [name] of found.slice(i, i + DELETES_PER_COMMIT)) {
        op.delete([...this.segPrefix, name]);
      }
      await this.commit(kv, op, what);
    }
    for (const [name, meta] of found) {
      if (isMeta(meta)) await this.deleteChunks(kv, name, meta);
    }
  }

  /** Deletes the chunks a record points at (their keys are known: nothing to read). */
  private async deleteChunks(kv: Deno.Kv, name: string, meta: SegmentMeta): Promise<void> {
    const what = `deleting the chunks of segment ${name}`;
    for (let c = 0; c < meta.chunks; c += DELETES_PER_COMMIT) {
      const op = this.atomic(kv, what);
      for (let i = c; i < Math.min(meta.chunks, c + DELETES_PER_COMMIT); i++) {
        op.delete([...this.chunkPrefix, name, meta.gen, i]);
      }
      await this.commit(kv, op, what);
    }
  }

  /** Deletes every key under `prefix` (for chunks of unknown count). */
  private async deleteListed(kv: Deno.Kv, prefix: Deno.KvKey): Promise<void> {
    const what = "deleting orphaned chunks";
    for (;;) {
      const keys: Deno.KvKey[] = [];
      for await (const e of kv.list({ prefix }, { limit: DELETES_PER_COMMIT })) keys.push(e.key);
      if (keys.length === 0) return;
      const op = this.atomic(kv, what);
      for (const k of keys) op.delete(k);
      await this.commit(kv, op, what);
    }
  }

  /**
   * Takes the lease (see {@linkcode kvBackend}): at once when it is free or its expiry is
   * long past; otherwise after watching it for a whole lease time without a change.
   * Resolves `false` as soon as the lease changes while watched (its holder renewed it) or
   * belongs to a live backend of this process.
   */
  async claim(): Promise<boolean> {
    if (this.holder !== undefined) return true;
    const kv = await this.kvForWrite();
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      let [lease, token] = await kv.getMany<[unknown, unknown]>([this.leaseKey, this.tokenKey]);
      const held = lease.value;
      if (held !== null && !(isLease(held) && Date.now() > held.expiresAt + LONG_PAST_MS)) {
        if (isLease(held) && LIVE_HOLDERS.has(held.holder)) return false;
        // The holder renews every quarter of its own lease time: watching that long is
        // enough to see a live one.
        const wait = isLease(held) ? held.leaseMs : this.leaseMs;
        const changed = await this.watch(kv, lease, wait);
        if (changed !== undefined) {
          if (changed.value !== null) return false; // renewed (or taken): alive
          continue; // released: try again at once
        }
        token = await kv.get(this.tokenKey);
      }
      const holder = crypto.randomUUID();
      const n = typeof token.value === "number" ? token.value + 1 : 1;
      const take = kv.atomic().check(lease).check(token)
        .set(this.leaseKey, this.leaseRecord(holder))
        .set(this.tokenKey, n);
      const res = await whenNotBusy(() => take.commit());
      if (!res.ok) continue; // another claimant, or a renewal, came first: look again
      this.holder = holder;
      this.claimedKv = kv;
      this.tokenStamp = res.versionstamp;
      this.lost = false;
      LIVE_HOLDERS.add(holder);
      const id = setInterval(() => this.renew(), this.leaseMs / RENEWALS_PER_LEASE);
      Deno.unrefTimer(id as unknown as number);
      this.renewTimer = id;
      return true;
    }
    return false;
  }

  /**
   * Polls the lease for `ms` on this process's monotonic clock; resolves the changed entry
   * as soon as its versionstamp differs from `seen`, or `undefined` if it never did.
   */
  private async watch(
    kv: Deno.Kv,
    seen: Deno.KvEntryMaybe<unknown>,
    ms: number,
  ): Promise<Deno.KvEntryMaybe<unknown> | undefined> {
    const start = performance.now();
    const poll = Math.max(10, Math.min(100, ms / 50));
    for (;;) {
      const left = ms - (performance.now() - start);
      if (left <= 0) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(poll, left)));
      const now = await kv.get(this.leaseKey);
      if (now.versionstamp !== seen.versionstamp) return now;
    }
  }

  private leaseRecord(holder: string): Lease {
    return { holder, expiresAt: Date.now() + this.leaseMs, leaseMs: this.leaseMs };
  }

  /** One renewal, checked against the token: failing means another run took the store. */
  private renew(): void {
    const kv = this.claimedKv;
    const holder = this.holder;
    if (this.renewing !== undefined || kv === undefined || holder === undefined) return;
    const renewing = (async () => {
      const res = await kv.atomic()
        .check({ key: this.tokenKey, versionstamp: this.tokenStamp! })
        .set(this.leaseKey, this.leaseRecord(holder))
        .commit();
      if (!res.ok && this.holder === holder) this.markLost();
    })();
    this.renewing = renewing.catch(() => {
      // A failed renewal (e.g. the database busy) is retried at the next tick; if they keep
      // failing, another run may take the store over, and the token check fences this one.
    }).finally(() => {
      this.renewing = undefined;
    });
  }

  private stopRenewing(): void {
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    if (this.holder !== undefined) LIVE_HOLDERS.delete(this.holder);
  }

  private markLost(): void {
    this.stopRenewing();
    this.lost = true;
    this.holder = undefined;
    this.claimedKv = undefined;
  }

  /** An atomic operation, fenced by the token while claimed; refused once the claim is lost. */
  private atomic(kv: Deno.Kv, what: string): Deno.AtomicOperation {
    if (this.lost) throw this.lostError(what);
    const op = kv.atomic();
    if (this.tokenStamp !== undefined) {
      op.check({ key: this.tokenKey, versionstamp: this.tokenStamp });
    }
    return op;
  }

  private async commit(kv: Deno.Kv, op: Deno.AtomicOperation, what: string): Promise<void> {
    const res = await whenNotBusy(() => op.commit());
    if (res.ok) return;
    await this.checkFence(kv, what);
    throw new Error(`Deno KV refused the commit ${what} in ${this.description}`);
  }

  /** Throws the lost-claim error when a claimed backend's token changed. */
  private async checkFence(kv: Deno.Kv, what: string): Promise<void> {
    if (this.tokenStamp === undefined) return;
    if (!this.lost && (await kv.get(this.tokenKey)).versionstamp === this.tokenStamp) return;
    if (!this.lost) this.markLost();
    throw this.lostError(what);
  }

  private lostError(what: string): Error {
    return new Error(
      `${what[0]!.toUpperCase()}${what.slice(1)} in ${this.description} failed: this backend ` +
        `lost its claim on the ` +
        `store to another run (its lease ran out while this process was stalled or stopped, ` +
        `and the other run took the store over); nothing was written. Stop this run: the ` +
        `other run owns the store now`,
    );
  }

  async close(): Promise<void> {
    const kv = this.claimedKv;
    const stamp = this.tokenStamp;
    const claimed = this.holder !== undefined;
    this.stopRenewing();
    this.holder = undefined;
    this.claimedKv = undefined;
    this.tokenStamp = undefined;
    await this.renewing;
    if (claimed && kv !== undefined && stamp !== undefined) {
      // Release the lease, unless another run took it; a failure leaves it to run out.
      await kv.atomic().check({ key: this.tokenKey, versionstamp: stamp })
        .delete(this.leaseKey).commit().catch(() => {});
    }
    const opening = this.opening;
    this.opening = undefined;
    if (opening === undefined) return;
    let kvOwn: Deno.Kv;
    try {
      kvOwn = await opening;
    } catch {
      return;
    }
    kvOwn.close();
  }
}

function checkMode(name: string, mode: number | undefined, fallback: number): number {
  if (mode === undefined) return fallback;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new RangeError(`${name} must be permission bits from 0 to 0o777, got ${mode}`);
  }
  return mode;
}

function isLease(v: unknown): v is Lease {
  if (typeof v !== "object" || v === null) return false;
  const l = v as Record<string, unknown>;
  return typeof l.holder === "string" && Number.isFinite(l.expiresAt) &&
    typeof l.leaseMs === "number" && l.leaseMs >= MIN_LEASE_MS && l.leaseMs <= MAX_LEASE_MS;
}

function isMeta(v: unknown): v is SegmentMeta {
  if (typeof v !== "object" || v === null) return false;
  const m = v as Record<string, unknown>;
  return Number.isSafeInteger(m.chunks) && (m.chunks as number) >= 0 &&
    Number.isSafeInteger(m.bytes) && (m.bytes as number) >= 0 &&
    typeof m.crc32 === "number" && typeof m.gen === "string";
}

/** The directory of `path`, or `undefined` for a bare name or a root. */
function parentOf(path: string): string | undefined {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return slash > 0 ? path.slice(0, slash) : undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** A key as JSON where possible (`["weir"]`), with bigints and bytes spelled out. */
function formatKey(key: Deno.KvKey): string {
  const parts = key.map((p) =>
    typeof p === "bigint"
      ? `${p}n`
      : p instanceof Uint8Array
      ? `bytes(${[...p].map((b) => b.toString(16).padStart(2, "0")).join("")})`
      : JSON.stringify(p)
  );
  return `[${parts.join(",")}]`;
}

/** How long a commit or an open waits, in all, for another connection's lock on the database. */
const BUSY_BUDGET_MS = 10_000;

/**
 * Runs `fn` again while SQLite reports the database locked by another connection (SQLITE_BUSY:
 * another process opening the database, e.g. `weir recovery inspect`, or committing), backing
 * off from 2 ms to 100 ms, for at most {@linkcode BUSY_BUDGET_MS}. A locked commit wrote
 * nothing, so trying it again is safe; its checks are evaluated again.
 */
async function whenNotBusy<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + BUSY_BUDGET_MS;
  for (let wait = 2;; wait = Math.min(100, wait * 2)) {
    try {
      return await fn();
    } catch (err) {
      if (!isBusy(err) || performance.now() + wait > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function isBusy(err: unknown): boolean {
  return err instanceof Error && /database (table )?is locked|database is busy/.test(err.message);
}
