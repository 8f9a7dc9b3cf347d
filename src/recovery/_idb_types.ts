/**
 * The few IndexedDB and Web Locks types the browser backend uses. Deno's type library has
 * neither API, and pulling in the whole DOM library would change the types of every module
 * checked with it, so the backend declares what it touches, as the browsers define it.
 *
 * @module
 */

/** A key of an IndexedDB object store (the subset weir uses). */
export type IdbKey = string | number | IdbKey[];

export interface IdbRequest<T = unknown> {
  readonly result: T;
  readonly error: DOMException | null;
  readonly transaction: IdbTransaction | null;
  onsuccess: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: ((ev: { readonly oldVersion: number }) => void) | null;
  onblocked: ((ev: unknown) => void) | null;
}

export interface IdbKeyRange {
  readonly lower: unknown;
  readonly upper: unknown;
}

export interface IdbKeyRangeStatic {
  bound(lower: IdbKey, upper: IdbKey, lowerOpen?: boolean, upperOpen?: boolean): IdbKeyRange;
}

export interface IdbObjectStore {
  readonly transaction: IdbTransaction;
  get(key: IdbKey): IdbRequest<unknown>;
  getAll(range: IdbKeyRange): IdbRequest<unknown[]>;
  getAllKeys(range: IdbKeyRange): IdbRequest<IdbKey[]>;
  put(value: unknown, key: IdbKey): IdbRequest<IdbKey>;
  delete(key: IdbKey | IdbKeyRange): IdbRequest<undefined>;
}

export interface IdbTransaction {
  readonly error: DOMException | null;
  objectStore(name: string): IdbObjectStore;
  abort(): void;
  oncomplete: ((ev: unknown) => void) | null;
  onabort: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): IdbObjectStore;
  transaction(
    store: string,
    mode: "readonly" | "readwrite",
    options?: { durability?: "strict" | "relaxed" | "default" },
  ): IdbTransaction;
  close(): void;
  onversionchange: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
}

export interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
  deleteDatabase(name: string): IdbRequest<undefined>;
}

export interface WebLock {
  readonly name: string;
}

export interface LockManager {
  request(
    name: string,
    options: { ifAvailable?: boolean; steal?: boolean; mode?: "exclusive" | "shared" },
    callback: (lock: WebLock | null) => unknown,
  ): Promise<unknown>;
}

/** What the backend reads from `globalThis`. */
export interface BrowserGlobals {
  readonly indexedDB?: IdbFactory;
  readonly IDBKeyRange?: IdbKeyRangeStatic;
  readonly navigator?: {
    readonly locks?: LockManager;
    readonly storage?: { estimate?(): Promise<{ usage?: number; quota?: number }> };
  };
}
