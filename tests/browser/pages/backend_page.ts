/**
 * The page script of the IndexedDB backend's browser tests (bundled, then loaded in
 * Chromium): the backend conformance suite, registered into a list instead of `Deno.test`,
 * plus what is particular to `idbBackend`. The Deno side lists the tests through
 * `globalThis.weirTests` and runs each as a test step.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { Dataflow, RecoveryError, run, statefulMap } from "../../../mod.ts";
import { idbBackend } from "../../../src/recovery/idb.ts";
import { TestingSink, TestingSource } from "../../../src/testing/mod.ts";
import type { RecoveryBackend } from "../../../src/recovery/backend.ts";
import { backendConformance, randomBytes } from "../../recovery/conformance.ts";

const tests = new Map<string, () => Promise<void>>();
const register = (name: string, fn: () => Promise<void>) => {
  if (tests.has(name)) throw new Error(`Two browser tests are named ${name}`);
  tests.set(name, fn);
};

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
let seq = 0;
const freshName = () => `weir-test-${Date.now()}-${seq++}`;

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = g.indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
  });
}

async function databaseNames(): Promise<string[]> {
  return (await g.indexedDB.databases()).map((d: { name: string }) => d.name);
}

backendConformance("idbBackend", () => {
  const name = freshName();
  return Promise.resolve({
    backend: idbBackend(name),
    reopen: () => idbBackend(name),
    cleanup: () => deleteDatabase(name),
  });
}, register);

/** Runs `fn` with a fresh store name, deleting the database afterwards. */
function idbTest(title: string, fn: (name: string) => Promise<void>): void {
  register(`idbBackend: ${title}`, async () => {
    const name = freshName();
    try {
      await fn(name);
    } finally {
      await deleteDatabase(name);
    }
  });
}

idbTest("reading a store that does not exist creates no database", async (name) => {
  const backend = idbBackend(name);
  assertEquals(await backend.readManifest(), undefined);
  assertEquals(await backend.listSegments(), []);
  const err = await assertRejects(() => backend.readSegment("delta-0000000000000001"));
  assertEquals(
    err.message,
    `Segment delta-0000000000000001 does not exist in IndexedDB database "${name}"`,
  );
  await backend.deleteSegments(["delta-0000000000000001"]);
  await backend.close();
  assert(!(await databaseNames()).includes(name), "reading created the database");
  // The first write does.
  await backend.writeManifest(new Uint8Array([1]));
  assert((await databaseNames()).includes(name));
  await backend.close();
});

idbTest("a second claim on the store is refused until the first backend closes", async (name) => {
  const first = idbBackend(name);
  const second = idbBackend(name);
  assertEquals(await first.claim!(), true);
  assertEquals(await second.claim!(), false);
  await first.close();
  assertEquals(await second.claim!(), true);
  assertEquals(await first.claim!(), false);
  await second.close();
});

idbTest("a run on a store another run holds is refused: in use by another run", async (name) => {
  const holder = idbBackend(name);
  assertEquals(await holder.claim!(), true);
  const flow = new Dataflow("refused");
  flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
  const err = await assertRejects(
    () => run(flow, { recovery: { backend: idbBackend(name), create: true } }),
    RecoveryError,
  );
  assertEquals(
    err.message,
    `The recovery store in IndexedDB database "${name}" is in use by another run (another ` +
      `process, or another run in this one); two writers would corrupt it`,
  );
  await holder.close();
  const out: number[] = [];
  const ok = new Dataflow("refused");
  ok.input("inp", new TestingSource([1, 2])).output("out", new TestingSink(out));
  assertEquals(
    (await run(ok, { recovery: { backend: idbBackend(name), create: true } })).status,
    "eof",
  );
  assertEquals(out, [1, 2]);
});

idbTest("a flow resumes from the store after its EOF", async (name) => {
  const out: [string, number][] = [];
  const flow = new Dataflow("sums");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([["a", 1], ["b", 2], TestingSource.EOF(), ["a", 3]]),
  ).pipe(
    // A running sum per key, as keyed state.
    statefulMap(
      "sum",
      (s: number | undefined, v: number) => [(s ?? 0) + v, (s ?? 0) + v],
    ),
  ).output("out", new TestingSink(out));
  const recovery = { backend: idbBackend(name), create: true };
  await run(flow, { recovery });
  assertEquals(out, [["a", 1], ["b", 2]]);
  await run(flow, { recovery });
  assertEquals(out, [["a", 1], ["b", 2], ["a", 4]]);
});

idbTest("a backend whose lock was stolen writes nothing more", async (name) => {
  const first = idbBackend(name);
  assertEquals(await first.claim!(), true);
  await first.writeSegment("delta-0000000000000001", new Uint8Array([1]));
  // Another context steals the lock and hands it to a second backend.
  await g.navigator.locks.request(`weir-recovery:${name}`, { steal: true }, () => {});
  const second = idbBackend(name);
  assertEquals(await second.claim!(), true);
  const err = await assertRejects(() =>
    first.writeSegment("delta-0000000000000002", new Uint8Array([2]))
  );
  assertEquals(
    err.message,
    `Writing segment delta-0000000000000002 in IndexedDB database "${name}" failed: this ` +
      `backend lost its claim on the store to another run (its Web Lock ` +
      `"weir-recovery:${name}" was stolen, and the other run took the store over); nothing ` +
      `was written. Stop this run: the other run owns the store now`,
  );
  await assertRejects(
    () => first.deleteSegments(["delta-0000000000000001"]),
    Error,
    "lost its claim",
  );
  assertEquals(await second.listSegments(), ["delta-0000000000000001"]);
  await first.close();
  await second.close();
});

idbTest(
  "a newer fencing token stops a claimed backend's writes, even with its lock",
  async (name) => {
    const first = idbBackend(name);
    assertEquals(await first.claim!(), true);
    await first.writeManifest(new Uint8Array([1]));
    // Another claim bumped the token (first still holds its Web Lock: only the token tells).
    await rawPut(name, 1000, "token");
    await assertRejects(
      () => first.writeManifest(new Uint8Array([9])),
      Error,
      `Writing the manifest in IndexedDB database "${name}" failed: this backend lost its claim`,
    );
    // Nothing was written, and every later write is refused too.
    await assertRejects(
      () => first.writeSegment("delta-0000000000000001", new Uint8Array([2])),
      Error,
      "lost its claim on the store to another run",
    );
    const reader = idbBackend(name);
    assertEquals(await reader.readManifest(), new Uint8Array([1]));
    assertEquals(await reader.listSegments(), []);
    await reader.close();
    await first.close();
  },
);

idbTest("segments are stored in 1 MiB chunks and a rewrite leaves no old chunk", async (name) => {
  const backend = idbBackend(name);
  await backend.writeSegment("base-0000000000000001", randomBytes(3 * 1024 * 1024 + 5));
  assertEquals(
    await chunkKeys(name),
    [0, 1, 2, 3].map((i) => ["chunk", "base-0000000000000001", i]),
  );
  await backend.writeSegment("base-0000000000000001", new Uint8Array([1, 2]));
  assertEquals(await chunkKeys(name), [["chunk", "base-0000000000000001", 0]]);
  await backend.deleteSegments(["base-0000000000000001"]);
  assertEquals(await chunkKeys(name), []);
  await backend.close();
});

idbTest("collectGarbage deletes chunks no segment record accounts for", async (name) => {
  const backend = idbBackend(name);
  await backend.writeSegment("delta-0000000000000001", randomBytes(1500 * 1024));
  await rawPut(name, new Uint8Array([1]), ["chunk", "delta-0000000000000009", 0]);
  await rawPut(name, new Uint8Array([1]), ["chunk", "delta-0000000000000001", 5]);
  assertEquals((await chunkKeys(name)).length, 4);
  const reader = idbBackend(name);
  await reader.listSegments();
  assertEquals((await chunkKeys(name)).length, 4, "a read removed something");
  await reader.close();
  await backend.collectGarbage!();
  assertEquals(await chunkKeys(name), [0, 1].map((i) => ["chunk", "delta-0000000000000001", i]));
  assertEquals((await backend.readSegment("delta-0000000000000001")).length, 1500 * 1024);
  await backend.close();
});

idbTest("a database of another application is refused, not written", async (name) => {
  await new Promise<void>((resolve, reject) => {
    const req = g.indexedDB.open(name);
    req.onupgradeneeded = () => req.result.createObjectStore("keyval");
    req.onsuccess = () => {
      req.result.close();
      resolve();
    };
    req.onerror = () => reject(req.error);
  });
  const backend = idbBackend(name);
  const err = await assertRejects(() => backend.readManifest());
  assertEquals(
    err.message,
    `IndexedDB database "${name}" exists but has no object store "weir": it was not created ` +
      `by weir; give idbBackend another name`,
  );
  await backend.close();
});

// deno-lint-ignore no-explicit-any
function withDb<T>(name: string, fn: (db: any) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = g.indexedDB.open(name);
    req.onsuccess = () => {
      const db = req.result;
      fn(db).then(resolve, reject).finally(() => db.close());
    };
    req.onerror = () => reject(req.error);
  });
}

function chunkKeys(name: string): Promise<unknown[]> {
  return withDb(name, (db) =>
    new Promise((resolve, reject) => {
      const store = db.transaction("weir", "readonly").objectStore("weir");
      const req = store.getAllKeys(g.IDBKeyRange.bound(["chunk"], ["chunk", [[]]]));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }));
}

function rawPut(name: string, value: unknown, key: unknown): Promise<void> {
  return withDb(name, (db) =>
    new Promise((resolve, reject) => {
      const tx = db.transaction("weir", "readwrite");
      tx.objectStore("weir").put(value, key);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    }));
}

/** Outcome of one test: `ok`, or the error's message and stack. */
interface Outcome {
  readonly ok: boolean;
  readonly error?: string;
}

const held = new Map<string, RecoveryBackend>();

g.weirTests = {
  names: () => [...tests.keys()],
  async run(name: string): Promise<Outcome> {
    const fn = tests.get(name);
    if (fn === undefined) return { ok: false, error: `No browser test named ${name}` };
    try {
      await fn();
      return { ok: true };
    } catch (err) {
      return {
        ok: false,
        error: err instanceof Error ? `${err.stack ?? err.message}` : String(err),
      };
    }
  },
  /** Claims the store `name` and keeps it claimed (the "first tab"). */
  async hold(name: string): Promise<boolean> {
    const backend = idbBackend(name);
    const ok = await backend.claim!();
    if (ok) held.set(name, backend);
    return ok;
  },
  /** Runs a one-item flow on the store `name`: "eof", or the error's name and message. */
  async tryRun(name: string): Promise<string> {
    const flow = new Dataflow("tabs");
    flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
    try {
      return (await run(flow, { recovery: { backend: idbBackend(name), create: true } })).status;
    } catch (err) {
      return `${(err as Error).name}: ${(err as Error).message}`;
    }
  },
  /**
   * Writes a segment of `bytes` random bytes to the store `name`: "ok", or the error's
   * name, message, and its cause's name.
   */
  async writeBig(name: string, bytes: number): Promise<string> {
    const backend = idbBackend(name);
    try {
      await backend.writeSegment("base-0000000000000001", randomBytes(bytes));
      return "ok";
    } catch (err) {
      const e = err as Error;
      return `${e.name}: ${e.message} [cause: ${(e.cause as Error | undefined)?.name}]`;
    } finally {
      await backend.close();
    }
  },
  deleteDatabase,
};
g.weirTestsReady = true;
