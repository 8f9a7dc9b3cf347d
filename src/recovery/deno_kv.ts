/**
 * The Deno KV recovery backend (Deno only; needs the `--unstable-kv` flag).
 *
 * A store is a set of keys under a prefix (default `["weir"]`):
 * ```text
 * [...prefix, "manifest"]                   the manifest (bytes)
 * [...prefix, "seg", name]                  { chunks, bytes, crc32, gen }: the segment exists
 * [...prefix, "chunk", name, gen, i]        the segment's bytes, ≤ 60 KiB per chunk
 * ```
 * Deno KV refuses values of 64 KiB or more and atomic commits of 1000 mutations or 800 KiB,
 * so a segment is split into chunks written by as many commits as needed, and only then made
 * visible by one last commit that writes its metadata record: a segment is one logical commit,
 * and a crash in the middle leaves chunks nobody lists. `gen` (fresh per write) keeps the
 * chunks of a rewrite apart from the ones the current record points at, so replacing a
 * segment is atomic too. Chunks that no record points at are deleted by `listSegments`.
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

/** Options of {@linkcode kvBackend}. */
export interface KvBackendOptions {
  /**
   * The key prefix every key of the store starts with (default `["weir"]`). Several stores
   * can share one database under different prefixes.
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
}

/**
 * A recovery backend over Deno KV: `Deno.openKv(pathOrUrl)` (opened on first use and closed
 * by `close()`, which a run does when it ends; the next use opens it again), or a `Deno.Kv`
 * you opened yourself (then `close()` leaves it open). Needs `--unstable-kv`.
 *
 * `":memory:"` as a path gives a database that is lost whenever the backend closes, that is
 * after every run; pass an open in-memory `Deno.Kv` instead to keep it across runs.
 *
 * @param pathOrKv A database path or URL (default: Deno's default database for the script),
 *   or an open `Deno.Kv`.
 * @param options The key prefix (default `["weir"]`).
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
 * assertEquals(await kvBackend(kv, { prefix: ["other"] }).listSegments(), []);
 * kv.close();
 * ```
 */
export function kvBackend(
  pathOrKv?: string | Deno.Kv,
  options: KvBackendOptions = {},
): RecoveryBackend {
  return new KvBackend(pathOrKv, options.prefix ?? ["weir"]);
}

/** A segment's metadata record. */
interface SegmentMeta {
  readonly chunks: number;
  readonly bytes: number;
  readonly crc32: number;
  readonly gen: string;
}

class KvBackend implements RecoveryBackend {
  readonly description: string;
  private readonly path: string | undefined;
  private readonly ownKv: Deno.Kv | undefined;
  private opening: Promise<Deno.Kv> | undefined;
  private readonly prefix: Deno.KvKey;
  private readonly manifestKey: Deno.KvKey;
  private readonly segPrefix: Deno.KvKey;
  private readonly chunkPrefix: Deno.KvKey;
  /** `[name, gen]` of the segments this instance is writing (JSON), not to be cleaned up. */
  private readonly writing = new Set<string>();

  constructor(pathOrKv: string | Deno.Kv | undefined, prefix: Deno.KvKey) {
    if (!Array.isArray(prefix)) {
      throw new TypeError(`prefix must be a Deno.KvKey (an array), got ${typeof prefix}`);
    }
    if (pathOrKv !== undefined && typeof pathOrKv !== "string") {
      if (!(pathOrKv instanceof Deno.Kv)) {
        throw new TypeError("kvBackend takes a path, a URL or an open Deno.Kv");
      }
      this.ownKv = pathOrKv;
    } else {
      this.path = pathOrKv;
    }
    this.prefix = [...prefix];
    this.manifestKey = [...prefix, "manifest"];
    this.segPrefix = [...prefix, "seg"];
    this.chunkPrefix = [...prefix, "chunk"];
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
      if (file !== undefined) {
        if (!create && !(await exists(file))) return undefined;
        const slash = Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\"));
        if (create && slash > 0) await Deno.mkdir(file.slice(0, slash), { recursive: true });
      }
      if (this.opening === undefined) {
        if (typeof Deno.openKv !== "function") {
          throw new Error(
            `Cannot open ${this.description}: Deno KV is unstable; run with --unstable-kv`,
          );
        }
        const opening = Deno.openKv(this.path);
        this.opening = opening;
        opening.catch(() => {
          if (this.opening === opening) this.opening = undefined;
        });
      }
    }
    return await this.opening;
  }

  private async kvForWrite(): Promise<Deno.Kv> {
    return (await this.kv(true))!;
  }

  async readManifest(): Promise<Uint8Array | undefined> {
    const kv = await this.kv(false);
    if (kv === undefined) return undefined;
    const { value } = await kv.get(this.manifestKey);
    if (value === null) return undefined;
    if (!(value instanceof Uint8Array)) {
      throw new Error(`The manifest in ${this.description} is not bytes: the store is damaged`);
    }
    return value;
  }

  async writeManifest(bytes: Uint8Array): Promise<void> {
    const kv = await this.kvForWrite();
    checkCommit(await kv.set(this.manifestKey, bytes), `writing the manifest`, this);
  }

  async listSegments(): Promise<string[]> {
    const kv = await this.kv(false);
    if (kv === undefined) return [];
    // Order matters: chunk groups first, then the writes in progress, then the records. A
    // group seen in the first step belongs to a write that began earlier; if that write is
    // no longer in progress at the second step, it either committed (its record is read in
    // the third) or failed (its chunks are garbage).
    const groups = await this.chunkGroups(kv);
    const writing = new Set(this.writing);
    const metas = new Map<string, unknown>();
    for await (const e of kv.list({ prefix: this.segPrefix })) {
      const name = e.key[this.segPrefix.length];
      if (typeof name === "string" && e.key.length === this.segPrefix.length + 1) {
        metas.set(name, e.value);
      }
    }
    for (const [name, gen] of groups) {
      const meta = metas.get(name);
      const live = isMeta(meta) && meta.gen === gen;
      if (!live && !writing.has(JSON.stringify([name, gen]))) {
        // Left by a crash (or a failed write) before its record was committed, or by a
        // rewrite or delete interrupted after it: never part of the store.
        await this.deleteListed(kv, [...this.chunkPrefix, name, gen]);
      }
    }
    return [...metas.keys()];
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
    const gen = crypto.randomUUID();
    const token = JSON.stringify([name, gen]);
    const chunks = Math.ceil(bytes.length / CHUNK_BYTES);
    const meta: SegmentMeta = { chunks, bytes: bytes.length, crc32: crc32(bytes), gen };
    const metaKey = [...this.segPrefix, name];
    let previous: unknown = null;
    this.writing.add(token);
    try {
      for (let c = 0; c < chunks; c += CHUNKS_PER_COMMIT) {
        const op = kv.atomic();
        for (let i = c; i < Math.min(chunks, c + CHUNKS_PER_COMMIT); i++) {
          op.set(
            [...this.chunkPrefix, name, gen, i],
            bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
          );
        }
        checkCommit(await op.commit(), `writing segment ${name}`, this);
      }
      // The commit that makes the segment exist, replacing an earlier record of the name.
      let done = false;
      for (let attempt = 0; attempt < META_ATTEMPTS && !done; attempt++) {
        const current = await kv.get(metaKey);
        const res = await kv.atomic().check(current).set(metaKey, meta).commit();
        if (res.ok) {
          previous = current.value;
          done = true;
        }
      }
      if (!done) {
        throw new Error(
          `Cannot commit segment ${name} to ${this.description}: its record kept changing ` +
            `(${META_ATTEMPTS} attempts)`,
        );
      }
    } finally {
      // On failure the chunks stay, unlisted, until listSegments removes them.
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
    // listSegments would remove if this were interrupted.
    for (let i = 0; i < found.length; i += DELETES_PER_COMMIT) {
      const op = kv.atomic();
      for (const [name] of found.slice(i, i + DELETES_PER_COMMIT)) {
        op.delete([...this.segPrefix, name]);
      }
      checkCommit(await op.commit(), `deleting segments`, this);
    }
    for (const [name, meta] of found) {
      if (isMeta(meta)) await this.deleteChunks(kv, name, meta);
    }
  }

  /** Deletes the chunks a record points at (their keys are known: nothing to read). */
  private async deleteChunks(kv: Deno.Kv, name: string, meta: SegmentMeta): Promise<void> {
    for (let c = 0; c < meta.chunks; c += DELETES_PER_COMMIT) {
      const op = kv.atomic();
      for (let i = c; i < Math.min(meta.chunks, c + DELETES_PER_COMMIT); i++) {
        op.delete([...this.chunkPrefix, name, meta.gen, i]);
      }
      checkCommit(await op.commit(), `deleting the chunks of segment ${name}`, this);
    }
  }

  /** Deletes every key under `prefix` (for chunks of unknown count). */
  private async deleteListed(kv: Deno.Kv, prefix: Deno.KvKey): Promise<void> {
    for (;;) {
      const keys: Deno.KvKey[] = [];
      for await (const e of kv.list({ prefix }, { limit: DELETES_PER_COMMIT })) keys.push(e.key);
      if (keys.length === 0) return;
      const op = kv.atomic();
      for (const k of keys) op.delete(k);
      checkCommit(await op.commit(), `deleting orphaned chunks`, this);
    }
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (opening === undefined) return;
    let kv: Deno.Kv;
    try {
      kv = await opening;
    } catch {
      return;
    }
    kv.close();
  }
}

function checkCommit(
  res: Deno.KvCommitResult | Deno.KvCommitError,
  what: string,
  backend: KvBackend,
): void {
  if (!res.ok) throw new Error(`Deno KV refused the commit ${what} in ${backend.description}`);
}

function isMeta(v: unknown): v is SegmentMeta {
  if (typeof v !== "object" || v === null) return false;
  const m = v as Record<string, unknown>;
  return Number.isSafeInteger(m.chunks) && (m.chunks as number) >= 0 &&
    Number.isSafeInteger(m.bytes) && (m.bytes as number) >= 0 &&
    typeof m.crc32 === "number" && typeof m.gen === "string";
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
