/**
 * Store locations for the recovery tests, one kind per backend: a temporary directory for
 * fsBackend, a temporary SQLite file for kvBackend. Each gives fresh backends over the
 * location and raw access to what the backend wrote, so tests can damage it.
 *
 * @module
 */
import type { RecoveryBackend } from "../../src/recovery/backend.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { kvBackend } from "../../src/recovery/deno_kv.ts";
import type { RecoveryConfig } from "../../src/recovery/config.ts";

/** One fresh, never-initialised store location. */
export interface TestStore {
  /** `"fsBackend"` or `"kvBackend"`. */
  readonly kind: string;
  /** The directory (fs) or database file (kv). */
  readonly location: string;
  /** A new backend over the location. */
  backend(): RecoveryBackend;
  /** A config over a new backend, with `create: true`. */
  config(extra?: Partial<RecoveryConfig>): RecoveryConfig;
  /** A backend over a location that does not exist, and that location. */
  missing(): { backend: RecoveryBackend; location: string };
  /** Makes the location exist without initialising a store in it. */
  makeEmpty(): Promise<void>;
  /** The names of the stored segments, read without the backend under test. */
  segmentNames(): Promise<string[]>;
  /** What a crash could have left behind that is not part of the store (must be cleaned). */
  garbage(): Promise<string[]>;
  /** The manifest's text, read without the backend. */
  manifestText(): Promise<string>;
  /** Replaces the manifest's text behind the backend's back. */
  setManifestText(text: string): Promise<void>;
  /** Removes a segment behind the backend's back (as a lost file or record would). */
  removeSegmentRaw(name: string): Promise<void>;
  /** Removes the manifest behind the backend's back. */
  removeManifestRaw(): Promise<void>;
  /** Removes the location. */
  cleanup(): Promise<void>;
}

/** The KV key prefix the tests' kv stores use (the default). */
export const KV_PREFIX = ["weir"] as const;

/** Where kvBackend keeps the keys of the store under `prefix`: `[...prefix, false]`. */
export function kvRoot(prefix: Deno.KvKey = KV_PREFIX): Deno.KvKey {
  return [...prefix, false];
}

/** A fresh store in a temporary directory. */
export async function fsStore(): Promise<TestStore> {
  const root = await Deno.makeTempDir({ prefix: "weir_fs_store_" });
  const dir = `${root}/store`;
  return {
    kind: "fsBackend",
    location: dir,
    backend: () => fsBackend(dir),
    config: (extra = {}) => ({ backend: fsBackend(dir), create: true, ...extra }),
    missing: () => ({ backend: fsBackend(`${root}/missing`), location: `${root}/missing` }),
    makeEmpty: () => Deno.mkdir(dir, { recursive: true }),
    segmentNames: async () => (await segmentFiles(dir)).filter((n) => !isFsTmp(n)),
    garbage: async () => (await segmentFiles(dir)).filter(isFsTmp),
    manifestText: () => Deno.readTextFile(`${dir}/weir-store.json`),
    setManifestText: (text) => Deno.writeTextFile(`${dir}/weir-store.json`, text),
    removeSegmentRaw: (name) => Deno.remove(`${dir}/segments/${name}`),
    removeManifestRaw: () => Deno.remove(`${dir}/weir-store.json`),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

/** fsBackend's temporary files: `.<name>.weir-tmp-<random>`. */
function isFsTmp(name: string): boolean {
  return name.startsWith(".") && name.includes(".weir-tmp-");
}

/** The files in `<dir>/segments`, sorted (none when it does not exist). */
async function segmentFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/segments`)) names.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

/** Runs `fn` with the KV database at `path` open, then closes it. */
export async function withKv<T>(path: string, fn: (kv: Deno.Kv) => Promise<T>): Promise<T> {
  const kv = await Deno.openKv(path);
  try {
    return await fn(kv);
  } finally {
    kv.close();
  }
}

/** Segment metadata records under `prefix`: name → value. */
export async function kvSegmentRecords(
  kv: Deno.Kv,
  prefix: Deno.KvKey = KV_PREFIX,
): Promise<Map<string, { chunks: number; bytes: number; crc32: number; gen: string }>> {
  const out = new Map();
  for await (const e of kv.list({ prefix: [...kvRoot(prefix), "seg"] })) {
    out.set(e.key[prefix.length + 2] as string, e.value);
  }
  return out;
}

/** Every chunk key under `prefix`, as `name/gen/i`. */
export async function kvChunkKeys(
  kv: Deno.Kv,
  prefix: Deno.KvKey = KV_PREFIX,
): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [...kvRoot(prefix), "chunk"] })) {
    out.push(e.key.slice(prefix.length + 2).join("/"));
  }
  return out;
}

/** Chunk groups (`name/gen`) that no metadata record points at. */
export async function kvOrphanGroups(
  kv: Deno.Kv,
  prefix: Deno.KvKey = KV_PREFIX,
): Promise<string[]> {
  const records = await kvSegmentRecords(kv, prefix);
  const groups = new Set<string>();
  for await (const e of kv.list({ prefix: [...kvRoot(prefix), "chunk"] })) {
    const [name, gen] = e.key.slice(prefix.length + 2) as [string, string];
    if (records.get(name)?.gen !== gen) groups.add(`${name}/${gen}`);
  }
  return [...groups].sort();
}

/** A fresh store in a temporary SQLite file. */
export async function kvStore(): Promise<TestStore> {
  const root = await Deno.makeTempDir({ prefix: "weir_kv_store_" });
  const path = `${root}/store.sqlite`;
  const manifestKey = [...kvRoot(), "manifest"];
  return {
    kind: "kvBackend",
    location: path,
    backend: () => kvBackend(path),
    config: (extra = {}) => ({ backend: kvBackend(path), create: true, ...extra }),
    missing: () => ({
      backend: kvBackend(`${root}/missing/store.sqlite`),
      location: `${root}/missing/store.sqlite`,
    }),
    makeEmpty: () => withKv(path, () => Promise.resolve()),
    segmentNames: () => withKv(path, async (kv) => [...(await kvSegmentRecords(kv)).keys()].sort()),
    garbage: () => withKv(path, (kv) => kvOrphanGroups(kv)),
    manifestText: () =>
      withKv(path, async (kv) => {
        const { value } = await kv.get<Uint8Array>(manifestKey);
        return new TextDecoder().decode(value!);
      }),
    setManifestText: (text) =>
      withKv(path, async (kv) => {
        await kv.set(manifestKey, new TextEncoder().encode(text));
      }),
    removeSegmentRaw: (name) =>
      withKv(path, async (kv) => {
        await kv.delete([...kvRoot(), "seg", name]);
      }),
    removeManifestRaw: () =>
      withKv(path, async (kv) => {
        await kv.delete(manifestKey);
      }),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

/** Every kind of store the recovery scenarios run against. */
export const STORE_KINDS: ReadonlyArray<{ name: string; make: () => Promise<TestStore> }> = [
  { name: "fsBackend", make: fsStore },
  { name: "kvBackend", make: kvStore },
];

/** Registers `fn` as one test per store kind, named `<title> [<kind>]`. */
export function storeTest(title: string, fn: (store: TestStore) => Promise<void>): void {
  for (const { name, make } of STORE_KINDS) {
    Deno.test(`${title} [${name}]`, async () => {
      const store = await make();
      try {
        await fn(store);
      } finally {
        await store.cleanup();
      }
    });
  }
}
