/**
 * The IndexedDB recovery backend, for weir flows running in a browser tab or worker: state
 * that survives a reload, a closed tab and a crashed browser.
 *
 * A store is one IndexedDB database (named as you name the store) holding one object store,
 * `weir`, with these keys:
 * ```text
 * "manifest"                 the manifest (bytes)
 * "token"                    the fencing token (a counter bumped by every claim)
 * ["seg", name]              { chunks, bytes, crc32 }: the segment exists
 * ["chunk", name, i]         the segment's bytes, ≤ 1 MiB per chunk
 * ```
 * Every write is one IndexedDB transaction, and an IndexedDB transaction is atomic: a
 * segment's chunks, its record and the deletion of what it replaces commit together or not at
 * all, so a crash leaves no partial segment. Transactions are opened with `durability:
 * "strict"` (the browser flushes to disk before reporting the commit) unless told otherwise.
 * A transaction lives only while it has requests pending, so each one issues its requests
 * from its own callbacks and never awaits anything else.
 *
 * One writer at a time: `claim()` takes an exclusive Web Lock (`navigator.locks`) named
 * `weir-recovery:<name>`, shared by every tab and worker of the origin — exactly IndexedDB's
 * scope — and held until `close()` or until the page goes away (reload, closed tab, killed
 * browser), so a crash never keeps it. A lock can only be lost to a `steal`; to be safe even
 * then, claiming bumps the fencing token, and every write of a claimed backend reads the token
 * in its own transaction and aborts when another claim bumped it.
 *
 * @module
 */
import { get } from "idb-keyval";
import type {
  BrowserGlobals,
  IdbDatabase,
  IdbKey,
  IdbObjectStore,
  IdbRequest,
} from "./_idb_types.ts";
import type { RecoveryBackend } from "./backend.ts";
import { crc32 } from "./bytes.ts";
import {
  AFTER,
  capitalize,
  CHUNK_BYTES,
  describeWriteError,
  IdbConnection,
  MANIFEST,
  promisifyRequest,
  STORE,
  TOKEN,
  writeError,
} from "./_idb_connection.ts";

/** Options of {@linkcode idbBackend}. */
export interface IdbBackendOptions {
  /**
   * The durability of write transactions (default `"strict"`: a commit is on disk when it
   * resolves, so it survives a power loss). `"relaxed"` lets the browser acknowledge a
   * commit before flushing it: faster, and still safe against a crashed or killed browser,
   * but an operating-system crash may lose the last commits.
   *
   * @example
   * ```ts
   * import { idbBackend } from "@weir/weir/recovery/idb";
   * import { assertEquals } from "@std/assert";
   *
   * const backend = idbBackend("sensors", { durability: "relaxed" });
   * assertEquals(backend.description, `IndexedDB database "sensors"`);
   * ```
   */
  readonly durability?: "strict" | "relaxed";
}

/**
 * A recovery backend over IndexedDB, for browsers (and web workers): the store is the
 * IndexedDB database `name` of the page's origin. Reading never writes (a store that does not
 * exist is not created by reading it); writes are single IndexedDB transactions, atomic and
 * (by default) strictly durable.
 *
 * One writer at a time, by the Web Locks API: a run claims the store by taking the exclusive
 * lock `weir-recovery:<name>`, so a second tab (or worker, or run in the same page) on the same
 * store is refused with a `RecoveryError` saying the store "is in use by another run". The
 * browser releases the lock when the page closes, reloads or crashes, so the next run proceeds
 * at once. If the lock is ever stolen (`navigator.locks.request(name, { steal: true })`),
 * the old holder's writes fail, fenced by a token, and change nothing. Web Locks need a secure
 * context: https, or http on localhost / 127.0.0.1.
 *
 * When the origin's storage quota is exhausted, writes fail with a `RecoveryError` saying so
 * (with the usage and quota the browser reports).
 *
 * @param name The IndexedDB database holding the store (one database per store).
 * @param options The durability of writes.
 *
 * @example A flow that resumes after a reload (a page's module script)
 * ```ts ignore
 * import { Dataflow, run } from "@weir/weir";
 * import { idbBackend } from "@weir/weir/recovery/idb";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("counter");
 * flow.input("inp", new TestingSource([1, 2, TestingSource.EOF(), 3]))
 *   .output("out", new TestingSink(out));
 * const recovery = { backend: idbBackend("counter-store"), create: true };
 * await run(flow, { recovery }); // out: [1, 2]
 * await run(flow, { recovery }); // resumes: out: [1, 2, 3]
 * ```
 *
 * @example Outside a browser it fails on first use, naming what is missing
 * ```ts
 * import { idbBackend } from "@weir/weir/recovery/idb";
 * import { assertRejects } from "@std/assert";
 *
 * const backend = idbBackend("orders");
 * await assertRejects(
 *   () => backend.readManifest(),
 *   Error,
 *   `Cannot open IndexedDB database "orders": this runtime has no IndexedDB`,
 * );
 * ```
 */
export function idbBackend(name: string, options: IdbBackendOptions = {}): RecoveryBackend {
  return new IdbBackend(name, options);
}

/** A segment's record. */
interface SegmentRecord {
  readonly chunks: number;
  readonly bytes: number;
  readonly crc32: number;
}

function isRecord(v: unknown): v is SegmentRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return Number.isSafeInteger(r.chunks) && Number.isSafeInteger(r.bytes) &&
    typeof r.crc32 === "number";
}

/** Thrown inside a write transaction fenced out by a newer claim. */
class Fenced extends Error {}

class IdbBackend implements RecoveryBackend {
  readonly description: string;
  readonly #name: string;
  readonly #lockName: string;
  readonly #durability: "strict" | "relaxed";
  readonly #conn: IdbConnection;
  /** While claimed: releases the Web Lock. */
  #release: (() => void) | undefined;
  /** While claimed: the fencing token this backend wrote. */
  #token: number | undefined;
  /** Set when the claim was lost (the lock stolen, or a newer token seen). */
  #lost = false;

  constructor(name: string, options: IdbBackendOptions) {
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`idbBackend's name must be a non-empty string, got ${String(name)}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`idbBackend's options must be an object, got ${options}`);
    }
    const durability = options.durability ?? "strict";
    if (durability !== "strict" && durability !== "relaxed") {
      throw new RangeError(
        `idbBackend's durability must be "strict" or "relaxed", got ${String(durability)}`,
      );
    }
    this.#name = name;
    this.#lockName = `weir-recovery:${name}`;
    this.#durability = durability;
    this.description = `IndexedDB database ${JSON.stringify(name)}`;
    this.#conn = new IdbConnection(name, this.description);
  }

  async readManifest(): Promise<Uint8Array | undefined> {
    const db = await this.#conn.open(false);
    if (db === undefined) return undefined;
    // idb-keyval's `get` over this connection (a read-only transaction).
    const useStore = <T>(
      _mode: unknown,
      // deno-lint-ignore no-explicit-any
      callback: (store: any) => T | PromiseLike<T>,
    ): Promise<T> =>
      Promise.resolve(callback(db.transaction(STORE, "readonly").objectStore(STORE)));
    const value = await get(MANIFEST, useStore);
    if (value === undefined) return undefined;
    if (!(value instanceof Uint8Array)) {
      throw new Error(`The manifest in ${this.description} is not bytes: the store is damaged`);
    }
    return value;
  }

  writeManifest(bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice();
    return this.#write("writing the manifest", copy.length, (store) => {
      store.put(copy, MANIFEST);
    });
  }

  async listSegments(): Promise<string[]> {
    const db = await this.#conn.open(false);
    if (db === undefined) return [];
    const { range } = this.#conn.globals();
    const store = db.transaction(STORE, "readonly").objectStore(STORE);
    const keys: IdbKey[] = await promisifyRequest(
      store.getAllKeys(range.bound(["seg"], ["seg", AFTER])),
    );
    return keys.map((k) => (k as IdbKey[])[1] as string);
  }

  async readSegment(name: string): Promise<Uint8Array> {
    const db = await this.#conn.open(false);
    if (db === undefined) throw this.#missing(name);
    const { range } = this.#conn.globals();
    // The record and the chunks in one transaction: a consistent view even while another
    // connection replaces the segment.
    const store = db.transaction(STORE, "readonly").objectStore(STORE);
    const [record, chunks] = await Promise.all([
      promisifyRequest(store.get(["seg", name])) as Promise<unknown>,
      promisifyRequest(
        store.getAll(range.bound(["chunk", name], ["chunk", name, AFTER])),
      ) as Promise<
        unknown[]
      >,
    ]);
    if (record === undefined) throw this.#missing(name);
    if (!isRecord(record) || chunks.length !== record.chunks) {
      throw new Error(
        `Segment ${name} in ${this.description} is damaged: its record lists ` +
          `${isRecord(record) ? record.chunks : "?"} chunks, ${chunks.length} were found`,
      );
    }
    const out = new Uint8Array(record.bytes);
    let at = 0;
    for (const c of chunks) {
      if (!(c instanceof Uint8Array) || at + c.length > out.length) {
        throw new Error(
          `Segment ${name} in ${this.description} is damaged: its chunks do not add up to ` +
            `the ${record.bytes} bytes its record lists`,
        );
      }
      out.set(c, at);
      at += c.length;
    }
    if (at !== out.length || crc32(out) !== record.crc32) {
      throw new Error(
        `Segment ${name} in ${this.description} is damaged: ${at} of ${record.bytes} bytes, ` +
          `checksum ${crc32(out.subarray(0, at))} instead of ${record.crc32}`,
      );
    }
    return out;
  }

  #missing(name: string): Error {
    return new Error(`Segment ${name} does not exist in ${this.description}`);
  }

  async writeSegment(name: string, bytes: Uint8Array): Promise<void> {
    const { range } = this.#conn.globals();
    // Copies: a view is stored as just its bytes (a structured clone would keep the whole
    // buffer), and the caller may reuse its buffer once this returns.
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
      chunks.push(bytes.slice(at, Math.min(at + CHUNK_BYTES, bytes.length)));
    }
    const record: SegmentRecord = {
      chunks: chunks.length,
      bytes: bytes.length,
      crc32: crc32(bytes),
    };
    await this.#write(`writing segment ${name}`, bytes.length, (store) => {
      // The old chunks, the new ones and the record commit together.
      store.delete(range.bound(["chunk", name], ["chunk", name, AFTER]));
      for (let i = 0; i < chunks.length; i++) store.put(chunks[i], ["chunk", name, i]);
      store.put(record, ["seg", name]);
    });
  }

  async deleteSegments(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    if ((await this.#conn.open(false)) === undefined) return;
    const { range } = this.#conn.globals();
    await this.#write(`deleting ${names.length} segments`, 0, (store) => {
      for (const name of names) {
        store.delete(["seg", name]);
        store.delete(range.bound(["chunk", name], ["chunk", name, AFTER]));
      }
    });
  }

  /**
   * Deletes chunks that no record accounts for. A write commits its chunks and record in one
   * transaction, so IndexedDB itself leaves none; this sweeps what a damaged or hand-edited
   * store may hold, and costs one key listing.
   */
  async collectGarbage(): Promise<void> {
    if ((await this.#conn.open(false)) === undefined) return;
    const { range } = this.#conn.globals();
    await this.#write("collecting garbage", 0, (store) => {
      const records = store.getAll(range.bound(["seg"], ["seg", AFTER]));
      const recordKeys = store.getAllKeys(range.bound(["seg"], ["seg", AFTER]));
      const chunkKeys = store.getAllKeys(range.bound(["chunk"], ["chunk", AFTER]));
      chunkKeys.onsuccess = () => {
        const live = new Map<string, number>();
        recordKeys.result.forEach((k, i) => {
          const r = records.result[i];
          live.set((k as IdbKey[])[1] as string, isRecord(r) ? r.chunks : 0);
        });
        for (const key of chunkKeys.result) {
          const [, name, i] = key as [string, string, number];
          if (!(i < (live.get(name) ?? 0))) store.delete(key);
        }
      };
    });
  }

  /**
   * Claims the store: the Web Lock `weir-recovery:<name>` if no one holds it (else `false`),
   * then a new fencing token.
   */
  async claim(): Promise<boolean> {
    if (this.#release !== undefined && !this.#lost) return true;
    const locks = (globalThis as unknown as BrowserGlobals).navigator?.locks;
    if (locks === undefined) {
      throw new Error(
        `Cannot claim ${this.description}: this context has no Web Locks API ` +
          `(navigator.locks), which keeps a second tab from writing the store; it needs a ` +
          `secure context (https, or http on localhost or 127.0.0.1)`,
      );
    }
    const granted = await new Promise<boolean>((resolve, reject) => {
      let release!: () => void;
      const held = new Promise<void>((r) => release = r);
      let got = false;
      locks.request(this.#lockName, { ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(false);
          return undefined;
        }
        got = true;
        this.#release = release;
        resolve(true);
        return held;
      }).catch((err) => {
        if (!got) reject(err);
        else if (this.#release === release) {
          // Stolen by another context: fenced from now on.
          this.#lost = true;
        }
      });
    });
    if (!granted) return false;
    this.#lost = false;
    try {
      let token = 0;
      await this.#write("claiming the store", 0, (store) => {
        const r = store.get(TOKEN);
        r.onsuccess = () => {
          token = (typeof r.result === "number" ? r.result : 0) + 1;
          store.put(token, TOKEN);
        };
      }, false);
      this.#token = token;
    } catch (err) {
      this.#releaseLock();
      throw err;
    }
    return true;
  }

  #releaseLock(): void {
    const release = this.#release;
    this.#release = undefined;
    this.#token = undefined;
    this.#lost = false;
    release?.();
  }

  /**
   * Runs `ops` in one read-write transaction. A claimed backend first reads the fencing
   * token in the same transaction and aborts it if another claim bumped the token. `ops`
   * only issues requests (and chains others from their callbacks), as a transaction ends as
   * soon as no request is pending.
   */
  async #write(
    what: string,
    bytes: number,
    ops: (store: IdbObjectStore) => void,
    fenced = true,
  ): Promise<void> {
    if (this.#lost) throw this.#lostError(what);
    let db: IdbDatabase;
    try {
      db = (await this.#conn.open(true))!;
    } catch (err) {
      throw writeError(this.description, what, err);
    }
    const token = fenced ? this.#token : undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(STORE, "readwrite", { durability: this.#durability });
        const store = tx.objectStore(STORE);
        let fencedOut = false;
        tx.oncomplete = () => resolve();
        tx.onabort = () =>
          reject(
            fencedOut
              ? new Fenced()
              : tx.error ?? new Error("The IndexedDB transaction was aborted"),
          );
        if (token === undefined) {
          ops(store);
          return;
        }
        const check: IdbRequest<unknown> = store.get(TOKEN);
        check.onsuccess = () => {
          if (check.result !== token) {
            fencedOut = true;
            tx.abort();
          } else {
            ops(store);
          }
        };
      });
    } catch (err) {
      if (err instanceof Fenced) {
        this.#lost = true;
        throw this.#lostError(what);
      }
      throw await describeWriteError(this.description, what, bytes, err);
    }
  }

  #lostError(what: string): Error {
    return new Error(
      `${capitalize(what)} in ${this.description} failed: this backend ` +
        `lost its claim on the store to another run (its Web Lock "${this.#lockName}" was ` +
        `stolen, and the other run took the store over); nothing was written. Stop this run: ` +
        `the other run owns the store now`,
    );
  }

  close(): void {
    this.#releaseLock();
    this.#conn.close();
  }
}
