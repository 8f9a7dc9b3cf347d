// RecoveryStore.open, initStore and inspectStore against what can go wrong around them: a
// store held by another run (nothing is written before the claim), lost segments, a lost
// manifest, and a run folding segments away while an inspection reads them.
import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  Dataflow,
  initStore,
  inspectStore,
  RecoveryError,
  run,
  type RunOptions,
  statefulMap,
} from "../../mod.ts";
import type { RecoveryBackend } from "../../src/recovery/backend.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { TestingMarker } from "../../src/testing/testing_source.ts";
import { fsStore, storeTest } from "./_stores.ts";

const EOF = TestingSource.EOF;

/** A running sum per key, with EOF markers between runs. */
function sumFlow(items: Array<[string, number] | TestingMarker>) {
  const out: [string, number][] = [];
  const flow = new Dataflow("sums");
  flow.input("inp", new TestingSource(items))
    .pipe(statefulMap("sum", (s: number | undefined, v: number) => {
      const n = (s ?? 0) + v;
      return [n, n];
    }))
    .output("out", new TestingSink(out));
  return {
    out,
    async run(opts: RunOptions) {
      out.length = 0;
      return await run(flow, opts);
    },
  };
}

/** Three runs' worth of input, one epoch per item. */
function threeRuns() {
  return sumFlow([
    ["a", 1],
    ["b", 10],
    ["a", 2],
    EOF(),
    ["a", 3],
    ["b", 20],
    EOF(),
    ["a", 4],
  ]);
}

/** A backend that records every call made to the one it wraps. */
class Recording implements RecoveryBackend {
  readonly calls: string[] = [];
  readonly description: string;
  failGarbage = false;
  claim?: () => Promise<boolean>;
  collectGarbage?: () => Promise<void>;

  constructor(readonly inner: RecoveryBackend) {
    this.description = inner.description;
    if (inner.claim !== undefined) {
      this.claim = () => this.#log("claim", () => inner.claim!());
    }
    if (inner.collectGarbage !== undefined) {
      this.collectGarbage = () =>
        this.#log("collectGarbage", () => {
          if (this.failGarbage) return Promise.reject(new Error("disk on fire"));
          return inner.collectGarbage!();
        });
    }
  }

  #log<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.calls.push(name);
    return fn();
  }
  readManifest() {
    return this.#log("readManifest", () => this.inner.readManifest());
  }
  writeManifest(bytes: Uint8Array) {
    return this.#log("writeManifest", () => this.inner.writeManifest(bytes));
  }
  listSegments() {
    return this.#log("listSegments", () => this.inner.listSegments());
  }
  readSegment(name: string) {
    return this.#log("readSegment", () => this.inner.readSegment(name));
  }
  writeSegment(name: string, bytes: Uint8Array) {
    return this.#log("writeSegment", () => this.inner.writeSegment(name, bytes));
  }
  deleteSegments(names: readonly string[]) {
    return this.#log("deleteSegments", () => this.inner.deleteSegments(names));
  }
  close() {
    this.calls.push("close");
    return this.inner.close();
  }
}

const WRITES = ["writeManifest", "writeSegment", "deleteSegments", "collectGarbage"];

// ---------------------------------------------------------------------------------------
// Nothing is written before the claim; garbage is collected only under it.

Deno.test("open: the claim comes before any write, and garbage is collected right after it", async () => {
  const s = await fsStore();
  try {
    const f = threeRuns();
    const first = new Recording(s.backend());
    await f.run({ recovery: { backend: first, create: true }, epochInterval: 0 });
    const claimAt = first.calls.indexOf("claim");
    assert(claimAt > 0, first.calls.join(" "));
    assertEquals(first.calls.slice(0, claimAt).filter((c) => WRITES.includes(c)), []);
    assertEquals(first.calls.slice(claimAt, claimAt + 5), [
      "claim",
      "readManifest",
      "listSegments",
      "writeManifest",
      "collectGarbage",
    ]);
    const second = new Recording(s.backend());
    await f.run({ recovery: { backend: second }, epochInterval: 0 });
    assertEquals(second.calls.slice(0, 4), [
      "readManifest",
      "claim",
      "readManifest",
      "collectGarbage",
    ]);
  } finally {
    await s.cleanup();
  }
});

Deno.test("open: a store another run holds is refused without being written (its flow stays unbound)", async () => {
  const s = await fsStore();
  try {
    await initStore(s.backend(), 1234);
    const before = await s.manifestText();
    assertEquals(JSON.parse(before).flowId, null);
    const holder = s.backend();
    assert(await holder.claim!());
    try {
      const err = await assertRejects(
        () => threeRuns().run({ recovery: { backend: s.backend() } }),
        RecoveryError,
      );
      assertEquals(
        err.message,
        `The recovery store in directory ${s.location} is in use by another run (another ` +
          `process, or another run in this one); two writers would corrupt it`,
      );
      assertEquals(await s.manifestText(), before);
    } finally {
      await holder.close();
    }
  } finally {
    await s.cleanup();
  }
});

Deno.test("open: a location that was never initialised is refused without creating anything", async () => {
  const s = await fsStore();
  try {
    const err = await assertRejects(
      () => threeRuns().run({ recovery: { backend: s.backend() } }),
      RecoveryError,
    );
    assertEquals(
      err.message,
      `No recovery store in directory ${s.location}: it was never initialised. Pass ` +
        `create: true (CLI: weir recovery init <dir>) to start a new one`,
    );
    await assertRejects(() => Deno.stat(s.location), Deno.errors.NotFound);
  } finally {
    await s.cleanup();
  }
});

Deno.test("open: a store that fails after the claim releases it", async () => {
  const s = await fsStore();
  try {
    const f = threeRuns();
    await f.run({ recovery: s.config(), epochInterval: 0 });
    const failing = new Recording(s.backend());
    failing.failGarbage = true;
    const err = await assertRejects(
      () => f.run({ recovery: { backend: failing } }),
      RecoveryError,
    );
    assertEquals(
      err.message,
      `Cannot remove what interrupted writes left in the recovery store in directory ` +
        s.location,
    );
    assertEquals((err.cause as Error).message, "disk on fire");
    assertEquals(failing.calls.at(-1), "close");
    const next = s.backend();
    assert(await next.claim!(), "the failed run's claim was released");
    await next.close();
  } finally {
    await s.cleanup();
  }
});

// ---------------------------------------------------------------------------------------
// The manifest records that epochs were committed: lost segments are refused.

Deno.test("commit: the manifest is rewritten once, by the first commit, never per commit", async () => {
  const s = await fsStore();
  try {
    const f = threeRuns();
    const first = new Recording(s.backend());
    await f.run({ recovery: { backend: first, create: true }, epochInterval: 0 });
    assert(first.calls.filter((c) => c === "writeSegment").length >= 3, first.calls.join(" "));
    assertEquals(first.calls.filter((c) => c === "writeManifest").length, 2);
    assertEquals(JSON.parse(await s.manifestText()).committed, true);
    const second = new Recording(s.backend());
    await f.run({ recovery: { backend: second }, epochInterval: 0 });
    assert(second.calls.includes("writeSegment"));
    assertEquals(second.calls.filter((c) => c === "writeManifest").length, 0);
  } finally {
    await s.cleanup();
  }
});

Deno.test("commit: a failure to record the first commit in the manifest fails the run, naming it", async () => {
  const s = await fsStore();
  try {
    const inner = s.backend();
    const failing = new Recording(inner);
    failing.writeManifest = (bytes: Uint8Array) => {
      if (new TextDecoder().decode(bytes).includes('"committed":true')) {
        return Promise.reject(new Error("read-only file system"));
      }
      return inner.writeManifest(bytes);
    };
    const err = await assertRejects(() =>
      threeRuns().run({ recovery: { backend: failing, create: true }, epochInterval: 0 })
    );
    let cause: unknown = err;
    while (cause instanceof Error && !(cause instanceof RecoveryError)) cause = cause.cause;
    assert(cause instanceof RecoveryError, String(err));
    assertEquals(
      cause.message,
      `Cannot record the first commit (epoch 1) in the manifest of the recovery store in ` +
        `directory ${s.location}`,
    );
    assertEquals((cause.cause as Error).message, "read-only file system");
  } finally {
    await s.cleanup();
  }
});

storeTest(
  "a store whose segments were all lost is refused, not restarted from nothing",
  async (s) => {
    const f = threeRuns();
    await f.run({ recovery: s.config(), epochInterval: 0 });
    assertEquals(f.out, [["a", 1], ["b", 10], ["a", 3]]);
    const names = await s.segmentNames();
    assert(names.length > 0);
    for (const n of names) await s.removeSegmentRaw(n);
    const message = `The recovery store in ${s.backend().description} lost its segments: its ` +
      `manifest says epochs were committed, but it holds no segment. Restore the segments from ` +
      `a backup; to start over instead, delete the store and create a new one (its state is gone)`;
    for (const create of [false, true]) {
      const err = await assertRejects(
        () => f.run({ recovery: s.config({ create }), epochInterval: 0 }),
        RecoveryError,
      );
      assertEquals(err.message, message);
    }
    assertEquals(f.out, []);
    assertEquals(
      (await assertRejects(() => inspectStore(s.backend()), RecoveryError)).message,
      message,
    );
    assertEquals(await s.segmentNames(), []);
  },
);

storeTest(
  "a store that lost its manifest is refused, saying what it holds, until adopted",
  async (s) => {
    const f = threeRuns();
    await f.run({ recovery: s.config(), epochInterval: 0 });
    const names = await s.segmentNames();
    const epochs = names.map((n) => Number(n.split("-")[1]));
    const lo = Math.min(...epochs);
    const hi = Math.max(...epochs);
    await s.removeManifestRaw();
    const holds = `${names.length} segment${names.length === 1 ? "" : "s"} (${
      lo === hi ? `epoch ${lo}` : `epochs ${lo} to ${hi}`
    })`;
    const message = `The recovery store in ${s.backend().description} has no manifest but ` +
      `holds ${holds}: its manifest was lost. Restore the manifest from a backup, or adopt the ` +
      `segments with initStore(backend, now, { adopt: true }) (CLI: weir recovery init --adopt ` +
      `<dir>) and run again`;
    for (const create of [false, true]) {
      const err = await assertRejects(
        () => f.run({ recovery: s.config({ create }), epochInterval: 0 }),
        RecoveryError,
      );
      assertEquals(err.message, message);
    }
    assertEquals(
      (await assertRejects(() => inspectStore(s.backend()), RecoveryError)).message,
      message,
    );
    assertEquals(
      (await assertRejects(() => initStore(s.backend(), 0), RecoveryError)).message,
      message,
    );
    // Nothing was written: still no manifest, the same segments.
    await assertRejects(() => s.manifestText());
    assertEquals(await s.segmentNames(), names);
    await initStore(s.backend(), 0, { adopt: true });
    assertEquals(JSON.parse(await s.manifestText()).committed, true);
    await f.run({ recovery: s.config({ create: false }), epochInterval: 0 });
    assertEquals(f.out, [["a", 6], ["b", 30]]);
    assertEquals((await inspectStore(s.backend())).flowId, "sums");
  },
);

// ---------------------------------------------------------------------------------------
// inspectStore while a run folds the store.

/**
 * Lists, `times` times or always, one more segment that is gone, another one each time: as a
 * run folding the store away under the inspection would.
 */
class Phantom extends Recording {
  private listings = 0;
  constructor(inner: RecoveryBackend, private readonly times: number) {
    super(inner);
  }
  override async listSegments() {
    const names = await super.listSegments();
    if (this.listings < this.times) {
      names.push(`delta-${String(99 - this.listings).padStart(16, "0")}`);
    }
    this.listings++;
    return names;
  }
}

Deno.test("inspectStore: a segment folded away after the listing is read again; a store that keeps changing gets a clear error", async () => {
  const s = await fsStore();
  try {
    const f = threeRuns();
    // Folds as it goes: delta-…1 is gone by the end.
    await f.run({ recovery: s.config(), epochInterval: 0 });
    assert(!(await s.segmentNames()).includes("delta-0000000000000001"));
    const plain = await inspectStore(s.backend());
    const once = new Phantom(s.backend(), 2);
    assertEquals(await inspectStore(once), plain);
    assertEquals(once.calls.filter((c) => c === "listSegments").length, 3);
    assertEquals(once.calls.filter((c) => WRITES.includes(c)), []);
    const err = await assertRejects(
      () => inspectStore(new Phantom(s.backend(), Infinity)),
      RecoveryError,
    );
    assertEquals(
      err.message,
      `Cannot inspect the recovery store in directory ${s.location}: its segments changed ` +
        `during each of 5 readings (segment delta-0000000000000091 was removed); a run is ` +
        `folding it, try again`,
    );
    assert(err.cause instanceof Deno.errors.NotFound);
  } finally {
    await s.cleanup();
  }
});
