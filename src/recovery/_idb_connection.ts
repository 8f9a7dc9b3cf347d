/**
 * The IndexedDB backend's connection to its database (opened on first use, reopened after
 * another connection deleted or upgraded it), its key layout's constants and its write
 * errors. Browser-safe: it reads IndexedDB from `globalThis` when used.
 *
 * @module
 */
import { promisifyRequest as idbPromisify } from "idb-keyval";
import type {
  BrowserGlobals,
  IdbDatabase,
  IdbFactory,
  IdbKey,
  IdbKeyRangeStatic,
  IdbRequest,
  IdbTransaction,
} from "./_idb_types.ts";
import { RecoveryError } from "./errors.ts";

/**
 * idb-keyval's request-to-Promise helper, typed with this module's IndexedDB types (which the
 * DOM library's types satisfy too).
 */
export const promisifyRequest = idbPromisify as unknown as <T>(
  request: IdbRequest<T> | IdbTransaction,
) => Promise<T>;

/** The object store holding a store's keys. */
export const STORE = "weir";
export const MANIFEST = "manifest";
export const TOKEN = "token";
/** Bytes per chunk: each value (one structured clone, one IPC message) stays small. */
export const CHUNK_BYTES = 1024 * 1024;
/** Sorts after every string, number and array of them: the upper bound of a key range. */
export const AFTER: IdbKey = [[]];

/** One IndexedDB database of a store, opened on first use. */
export class IdbConnection {
  #db: IdbDatabase | undefined;

  /**
   * @param name The database's name.
   * @param description The store, for error messages.
   */
  constructor(readonly name: string, readonly description: string) {}

  /** The runtime's IndexedDB, or an error naming what is missing. */
  globals(): { idb: IdbFactory; range: IdbKeyRangeStatic } {
    const g = globalThis as unknown as BrowserGlobals;
    if (g.indexedDB === undefined || g.IDBKeyRange === undefined) {
      throw new Error(
        `Cannot open ${this.description}: this runtime has no IndexedDB (globalThis.indexedDB); ` +
          `idbBackend runs in browsers and web workers; elsewhere use fsBackend or kvBackend`,
      );
    }
    return { idb: g.indexedDB, range: g.IDBKeyRange };
  }

  /**
   * The connection, opened on first use. With `create` false a database that does not exist
   * is not created (its creation is aborted in `upgradeneeded`): resolves `undefined`.
   */
  async open(create: boolean): Promise<IdbDatabase | undefined> {
    if (this.#db !== undefined) return this.#db;
    const { idb } = this.globals();
    const db = await new Promise<IdbDatabase | undefined>((resolve, reject) => {
      const req = idb.open(this.name);
      let absent = false;
      req.onupgradeneeded = () => {
        if (!create) {
          absent = true;
          req.transaction!.abort();
        } else {
          req.result.createObjectStore(STORE);
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => {
        if (absent) resolve(undefined);
        else {
          reject(
            new Error(`Cannot open ${this.description}: ${req.error?.message}`, {
              cause: req.error,
            }),
          );
        }
      };
    });
    if (db === undefined) return undefined;
    if (!db.objectStoreNames.contains(STORE)) {
      db.close();
      throw new Error(
        `${this.description} exists but has no object store "${STORE}": it was not created ` +
          `by weir; give idbBackend another name`,
      );
    }
    if (this.#db !== undefined) {
      // Another call opened it meanwhile: keep one connection.
      db.close();
      return this.#db;
    }
    this.#db = db;
    // Another connection deletes or upgrades the database: let it, and reopen next time.
    db.onversionchange = () => {
      db.close();
      if (this.#db === db) this.#db = undefined;
    };
    db.onclose = () => {
      if (this.#db === db) this.#db = undefined;
    };
    return db;
  }

  /** Closes the connection, if open; the next use opens it again. */
  close(): void {
    const db = this.#db;
    this.#db = undefined;
    db?.close();
  }
}

/** The error of a failed write, naming what failed in which store. */
export function writeError(description: string, what: string, err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  return new Error(`${capitalize(what)} in ${description} failed: ${reason}`, {
    cause: err,
  });
}

/**
 * The error of a failed write: for an exhausted quota a `RecoveryError` with the browser's
 * usage estimate and how to free space, else {@linkcode writeError}'s.
 */
export async function describeWriteError(
  description: string,
  what: string,
  bytes: number,
  err: unknown,
): Promise<Error> {
  if (!(err instanceof Error && err.name === "QuotaExceededError")) {
    return writeError(description, what, err);
  }
  let usage = "";
  try {
    const est = await (globalThis as unknown as BrowserGlobals).navigator?.storage?.estimate?.();
    if (est?.usage !== undefined && est.quota !== undefined) {
      usage = ` (the browser reports ${formatBytes(est.usage)} used of a quota of ` +
        `${formatBytes(est.quota)})`;
    }
  } catch {
    // The estimate only adds detail.
  }
  return new RecoveryError(
    `${capitalize(what)} (${formatBytes(bytes)}) in ${description} failed: the ` +
      `origin's storage quota is exhausted${usage}; nothing was written. Free space (delete ` +
      `IndexedDB databases this origin no longer needs), or ask for persistent storage with ` +
      `navigator.storage.persist()`,
    { cause: err },
  );
}

export function capitalize(s: string): string {
  return `${s[0]!.toUpperCase()}${s.slice(1)}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
