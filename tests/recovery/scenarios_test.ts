// Bytewax's recovery scenarios (pytests/test_recovery.py, the recovery cases of
// test_stateful.py and test_testing.py), on weir. Each runs against every backend
// (filesystem and Deno KV, see _stores.ts); the store-error tests that damage files or
// records directly have one version per backend.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  Dataflow,
  DataflowError,
  keyOn,
  RecoveryError,
  run,
  type RunOptions,
  stateful,
  type StatefulLogic,
  statefulMap,
} from "../../mod.ts";
import { crc32 } from "../../src/recovery/bytes.ts";
import {
  fsStore,
  kvRoot,
  kvStore,
  STORE_KINDS,
  storeTest,
  type TestStore,
  withKv,
} from "./_stores.ts";

/** A KV segment's metadata record. */
type Meta = { chunks: number; bytes: number; crc32: number; gen: string };
import { TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { TestingMarker } from "../../src/testing/testing_source.ts";

/** input → sink flow; `out` is cleared before each run, like Bytewax's tests. */
function passThrough(inp: Array<number | TestingMarker>) {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(inp)).output("out", new TestingSink(out));
  return {
    out,
    async run(opts: RunOptions) {
      out.length = 0;
      return await run(flow, opts);
    },
  };
}

storeTest(
  "abort without snapshots: nothing committed, the next run replays from the start",
  async (s) => {
    const f = passThrough([0, 1, 2, TestingSource.ABORT(), 3, 4]);
    const clock = new TestClock({ start: 0 });
    const opts = { recovery: s.config(), epochInterval: 5000, clock };
    assertEquals((await f.run(opts)).status, "aborted");
    assertEquals(f.out, [0, 1, 2]);
    const second = await f.run(opts);
    assertEquals(second.resumedFrom, 0);
    assertEquals(f.out, [0, 1, 2, 3, 4]);
  },
);

storeTest(
  "abort with snapshots: the next run resumes after the last committed epoch",
  async (s) => {
    const f = passThrough([0, 1, 2, TestingSource.ABORT(), 3, 4]);
    const opts = { recovery: s.config(), epochInterval: 0 };
    await f.run(opts);
    assertEquals(f.out, [0, 1, 2]);
    const second = await f.run(opts);
    assert(second.resumedFrom! > 0);
    assertEquals(f.out, [3, 4]);
  },
);

storeTest("continuation: each run continues after the last EOF marker", async (s) => {
  const f = passThrough([0, 1, 2, TestingSource.EOF(), 3, 4]);
  const opts = { recovery: s.config(), epochInterval: 5000, clock: new TestClock() };
  await f.run(opts);
  assertEquals(f.out, [0, 1, 2]);
  await f.run(opts);
  assertEquals(f.out, [3, 4]);
  await f.run(opts);
  assertEquals(f.out, []);
  await f.run(opts);
  assertEquals(f.out, []);
});

storeTest("continuation with a backup interval: six runs over five EOF markers", async (s) => {
  const EOF = TestingSource.EOF;
  const f = passThrough([0, EOF(), 1, EOF(), 2, EOF(), 3, EOF(), 4]);
  const clock = new TestClock({ start: 0 });
  const opts = {
    recovery: s.config({ backupInterval: 10_000 }),
    epochInterval: 5000,
    clock,
  };
  const outs: number[][] = [];
  for (let i = 0; i < 6; i++) {
    await f.run(opts);
    outs.push([...f.out]);
    clock.advance(5000);
  }
  assertEquals(outs, [[0], [1], [2], [3], [4], []]);
});

storeTest(
  "continuation with backup interval 0 folds old epochs and keeps the resume point",
  async (s) => {
    const EOF = TestingSource.EOF;
    const items: Array<number | TestingMarker> = [];
    for (let i = 0; i < 40; i++) items.push(i, EOF());
    const f = passThrough(items);
    const opts = { recovery: s.config(), epochInterval: 0 };
    for (let i = 0; i < 40; i++) {
      await f.run(opts);
      assertEquals(f.out, [i]);
    }
    const names = await s.segmentNames();
    assert(names.length < 10, `old epochs were folded away, left: ${names.join(" ")}`);
    assert(names.some((n) => n.startsWith("base-")));
    // Folding left nothing behind (no temporary files, no unreferenced chunks).
    assertEquals(await s.garbage(), []);
  },
);

// test_stateful.py, cases 5, 6, 8 and 9.

type Transition = [string, [string, string]];

function eofFlow(items: Array<number | TestingMarker>, discardAfterEof: boolean) {
  const out: Transition[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(items))
    .pipe(
      keyOn("key", () => "ALL"),
      stateful("stateful", (resume: string | undefined): StatefulLogic<number, unknown, string> => {
        let state = resume ?? "NEW";
        const move = (to: string, discard: boolean) => {
          const t: [string, string] = [state, to];
          state = to;
          return [[t], discard] as [[string, string][], boolean];
        };
        return {
          onItem: () => move("ITEM", false),
          onEof: () => move("EOF", discardAfterEof),
          snapshot: () => state,
        };
      }),
    )
    .output("out", new TestingSink(out));
  return { flow, out };
}

storeTest("stateful: discard after EOF is persisted across a resume", async (s) => {
  const { flow, out } = eofFlow([1, TestingSource.EOF(), 2, TestingSource.ABORT()], true);
  const opts = { recovery: s.config(), epochInterval: 0 };
  await run(flow, opts);
  assertEquals(out, [["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "EOF"]]]);
  out.length = 0;
  await run(flow, opts);
  assertEquals(out, [["ALL", ["NEW", "ITEM"]]]);
});

storeTest("stateful: the state after onEof is snapshotted and restored", async (s) => {
  const { flow, out } = eofFlow([1, TestingSource.EOF(), 2, TestingSource.ABORT()], false);
  const opts = { recovery: s.config(), epochInterval: 0 };
  await run(flow, opts);
  assertEquals(out, [["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "EOF"]]]);
  out.length = 0;
  await run(flow, opts);
  assertEquals(out, [["ALL", ["EOF", "ITEM"]]]);
});

/** "Keep last" logic: state = last value, discarded when the value is "DISCARD". */
function keepLast(items: Array<[string, string] | TestingMarker>) {
  const out: Array<[string, [string | null, string]]> = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(items))
    .pipe(
      stateful(
        "keep_last",
        (resume: string | undefined): StatefulLogic<string, [string | null, string], string> => {
          let last = resume ?? null;
          return {
            onItem(v) {
              const t: [string | null, string] = [last, v];
              last = v;
              return [[t], v === "DISCARD"];
            },
            snapshot: () => last!,
          };
        },
      ),
    )
    .output("out", new TestingSink(out));
  return { flow, out };
}

storeTest("stateful: keep-last state is restored after an abort", async (s) => {
  const { flow, out } = keepLast([
    ["a", "a1"],
    ["b", "b1"],
    TestingSource.ABORT(),
    ["a", "a2"],
    ["b", "b2"],
  ]);
  const opts = { recovery: s.config(), epochInterval: 0 };
  await run(flow, opts);
  assertEquals(out, [["a", [null, "a1"]], ["b", [null, "b1"]]]);
  out.length = 0;
  await run(flow, opts);
  assertEquals(out, [["a", ["a1", "a2"]], ["b", ["b1", "b2"]]]);
});

storeTest("stateful: a discard is persisted across a resume", async (s) => {
  const { flow, out } = keepLast([
    ["a", "a1"],
    ["b", "b1"],
    ["a", "DISCARD"],
    ["b", "b2"],
    TestingSource.ABORT(),
    ["a", "a3"],
    ["b", "b3"],
  ]);
  const opts = { recovery: s.config(), epochInterval: 0 };
  await run(flow, opts);
  assertEquals(out, [
    ["a", [null, "a1"]],
    ["b", [null, "b1"]],
    ["a", ["a1", "DISCARD"]],
    ["b", ["b1", "b2"]],
  ]);
  out.length = 0;
  await run(flow, opts);
  assertEquals(out, [["a", [null, "a3"]], ["b", ["b2", "b3"]]]);
});

// test_testing.py: the EOF and ABORT markers as dataflows with recovery and epoch 0.

for (const { name, make } of STORE_KINDS) {
  Deno.test(`TestingSource EOF and ABORT markers resume after the marker [${name}]`, async () => {
    for (const marker of [TestingSource.EOF(), TestingSource.ABORT()]) {
      const s = await make();
      try {
        const f = passThrough([0, 1, 2, marker, 3, 4]);
        const opts = { recovery: s.config(), epochInterval: 0 };
        await f.run(opts);
        assertEquals(f.out, [0, 1, 2]);
        await f.run(opts);
        assertEquals(f.out, [3, 4]);
      } finally {
        await s.cleanup();
      }
    }
  });
}

// Store errors.

function maxFlow(id = "test_df", stepId = "keep_max") {
  const out: Array<[string, number]> = [];
  const flow = new Dataflow(id);
  flow.input("inp", new TestingSource<[string, number]>([["a", 4], ["b", 4]]))
    .pipe(statefulMap(stepId, (s: number | undefined, v: number) => {
      const m = Math.max(s ?? 0, v);
      return [m, m];
    }))
    .output("out", new TestingSink(out));
  return { flow, out };
}

storeTest("a store that was never initialised is refused unless create is set", async (s) => {
  const { flow } = maxFlow();
  const missing = s.missing();
  const err = await assertRejects(
    () => run(flow, { recovery: { backend: missing.backend } }),
    RecoveryError,
  );
  assertStringIncludes(err.message, missing.location);
  assertStringIncludes(err.message, "never initialised");
  // Refusing created nothing.
  await assertRejects(() => Deno.stat(missing.location), Deno.errors.NotFound);
  // An existing but empty location (directory, database) is refused the same way.
  await s.makeEmpty();
  const err2 = await assertRejects(
    () => run(flow, { recovery: { backend: s.backend() } }),
    RecoveryError,
  );
  assertStringIncludes(err2.message, "never initialised");
});

storeTest("a store of another flow is refused", async (s) => {
  await run(maxFlow("first").flow, { recovery: s.config() });
  const err = await assertRejects(
    () => run(maxFlow("second").flow, { recovery: s.config() }),
    RecoveryError,
  );
  assertStringIncludes(err.message, `belongs to the flow "first", not "second"`);
});

storeTest("state of steps no longer in the flow is refused, or dropped when asked", async (s) => {
  await run(maxFlow("f", "old_max").flow, { recovery: s.config() });
  const err = await assertRejects(
    () => run(maxFlow("f", "new_max").flow, { recovery: s.config() }),
    RecoveryError,
  );
  assertStringIncludes(err.message, "f.old_max (state, 2 keys)");
  assertStringIncludes(err.message, "dropOrphans");
  const { flow, out } = maxFlow("f", "new_max");
  // The source position survived: nothing new to read; the drop is recorded.
  await run(flow, { recovery: s.config({ dropOrphans: true }) });
  assertEquals(out, []);
  // The old step's state is gone: running with the old id again finds no orphans.
  await run(maxFlow("f", "new_max").flow, { recovery: s.config() });
});

Deno.test("a corrupt segment is refused with its name and offset [fsBackend]", async () => {
  const s = await fsStore();
  try {
    await corruptFile(s);
  } finally {
    await s.cleanup();
  }
});

async function corruptFile(s: TestStore): Promise<void> {
  const { flow } = maxFlow();
  await run(flow, { recovery: s.config(), epochInterval: 0 });
  const seg = (await s.segmentNames()).at(-1)!;
  const path = `${s.location}/segments/${seg}`;
  const bytes = Deno.readFileSync(path);
  bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
  Deno.writeFileSync(path, bytes);
  const err = await assertRejects(() => run(flow, { recovery: s.config() }), RecoveryError);
  assertStringIncludes(err.message, seg);
  assertStringIncludes(err.message, "checksum mismatch");
  // Truncated.
  Deno.writeFileSync(path, bytes.subarray(0, bytes.length - 7));
  const err2 = await assertRejects(() => run(flow, { recovery: s.config() }), RecoveryError);
  assertStringIncludes(err2.message, "truncated");
}

Deno.test("a corrupt chunk is refused with its segment's name [kvBackend]", async () => {
  const s = await kvStore();
  try {
    const { flow } = maxFlow();
    await run(flow, { recovery: s.config(), epochInterval: 0 });
    const seg = (await s.segmentNames()).at(-1)!;
    const recordKey = [...kvRoot(), "seg", seg];
    const record = await withKv(s.location, async (kv) => (await kv.get<Meta>(recordKey)).value!);
    assertEquals(record.chunks, 1);
    const chunkKey = [...kvRoot(), "chunk", seg, record.gen, 0];
    const bytes = await withKv(
      s.location,
      async (kv) => (await kv.get<Uint8Array>(chunkKey)).value!,
    );
    assertEquals(bytes.length, record.bytes);
    const setRaw = (key: Deno.KvKey, value: unknown) =>
      withKv(s.location, async (kv) => void await kv.set(key, value));
    const load = () => assertRejects(() => run(flow, { recovery: s.config() }), RecoveryError);

    // A flipped bit: the backend's CRC-32 of the whole segment catches it.
    const flipped = bytes.slice();
    flipped[flipped.length - 20] = flipped[flipped.length - 20]! ^ 0xff;
    await setRaw(chunkKey, flipped);
    const err = await load();
    assertStringIncludes(err.message, seg);
    assertStringIncludes((err.cause as Error).message, `Segment ${seg}`);
    assertStringIncludes((err.cause as Error).message, "CRC-32");

    // A truncated chunk: the size recorded in the metadata catches it.
    await setRaw(chunkKey, bytes.subarray(0, bytes.length - 7));
    const err2 = await load();
    assertStringIncludes(err2.message, seg);
    assertStringIncludes(
      (err2.cause as Error).message,
      `its chunks hold ${bytes.length - 7} bytes, its metadata records ${bytes.length}`,
    );

    // A missing chunk.
    await withKv(s.location, (kv) => kv.delete(chunkKey));
    const err3 = await load();
    assertStringIncludes(err3.message, seg);
    assertStringIncludes((err3.cause as Error).message, "chunk 0 of 1 is missing");

    // Damage that agrees with its metadata record (bytes and CRC rewritten together) is
    // still caught, by the segment format's own block checksums.
    await setRaw(chunkKey, flipped);
    await setRaw(recordKey, { ...record, crc32: crc32(flipped) });
    const err4 = await load();
    assertStringIncludes(err4.message, seg);
    assertStringIncludes(err4.message, "checksum mismatch");
  } finally {
    await s.cleanup();
  }
});

storeTest("a store of an unknown format version is refused", async (s) => {
  await run(maxFlow().flow, { recovery: s.config() });
  const m = JSON.parse(await s.manifestText());
  assertEquals(m.version, 1);
  await s.setManifestText(JSON.stringify({ ...m, version: 99 }));
  const err = await assertRejects(
    () => run(maxFlow().flow, { recovery: s.config() }),
    RecoveryError,
  );
  assertStringIncludes(err.message, "format version 99");
});

storeTest("a missing epoch in the middle of the chain is refused", async (s) => {
  const f = passThrough([0, 1, 2, 3, TestingSource.ABORT()]);
  // A long backup interval keeps every delta.
  const opts = {
    recovery: s.config({ backupInterval: 1e12 }),
    epochInterval: 0,
  };
  await f.run(opts);
  const names = await s.segmentNames();
  assert(names.length >= 3, names.join(" "));
  await s.removeSegmentRaw(names[1]!);
  const err = await assertRejects(() => f.run(opts), RecoveryError);
  assertStringIncludes(err.message, "missing epochs");
});

// State values, serde hooks and errors.

storeTest("structured-clone state values survive a resume", async (s) => {
  type State = {
    n: number;
    seen: Set<string>;
    last: Map<string, Date>;
    big: bigint;
    bytes: Uint8Array;
    nested: { list: Array<number | null | undefined> };
  };
  const restored: State[] = [];
  const flow = new Dataflow("clone");
  flow.input(
    "inp",
    new TestingSource<[string, string]>([
      ["k", "a"],
      ["k", "b"],
      TestingSource.ABORT(),
      ["k", "c"],
    ]),
  )
    .pipe(statefulMap("state", (s: State | undefined, v: string): [State, number] => {
      if (v === "c") restored.push(structuredClone(s!));
      const next: State = s ?? {
        n: 0,
        seen: new Set(),
        last: new Map(),
        big: 2n ** 64n,
        bytes: new Uint8Array([1, 2]),
        nested: { list: [1, null, undefined] },
      };
      next.n++;
      next.seen.add(v);
      next.last.set(v, new Date(Date.UTC(2026, 0, next.n)));
      next.big *= 2n;
      return [next, next.n];
    }))
    .output("out", new TestingSink([]));
  const opts = { recovery: s.config(), epochInterval: 0 };
  await run(flow, opts);
  await run(flow, opts);
  assertEquals(restored, [{
    n: 2,
    seen: new Set(["a", "b"]),
    last: new Map([["a", new Date(Date.UTC(2026, 0, 1))], ["b", new Date(Date.UTC(2026, 0, 2))]]),
    big: 2n ** 66n,
    bytes: new Uint8Array([1, 2]),
    nested: { list: [1, null, undefined] },
  }]);
});

class Money {
  constructor(readonly cents: bigint, readonly currency: string) {}
  plus(o: Money): Money {
    return new Money(this.cents + o.cents, this.currency);
  }
}

function moneyFlow(out: unknown[]) {
  const flow = new Dataflow("money");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([
      ["acct", 150],
      TestingSource.ABORT(),
      ["acct", 250],
    ]),
  )
    .pipe(statefulMap("total", (s: Money | undefined, v: number) => {
      const t = (s ?? new Money(0n, "EUR")).plus(new Money(BigInt(v), "EUR"));
      return [t, t instanceof Money ? `${t.cents} ${t.currency}` : "not a Money"];
    }))
    .output("out", new TestingSink(out));
  return flow;
}

storeTest("instances of your classes go through recovery.classes", async (s) => {
  const out: unknown[] = [];
  const classes = [{
    name: "Money",
    type: Money,
    toPlain: (m: Money) => [m.cents, m.currency],
    fromPlain: ([c, cur]: [bigint, string]) => new Money(c, cur),
  }];
  // deno-lint-ignore no-explicit-any
  const opts = { recovery: s.config({ classes: classes as any }), epochInterval: 0 };
  const flow = moneyFlow(out);
  await run(flow, opts);
  await run(flow, opts);
  assertEquals(out, [["acct", "150 EUR"], ["acct", "400 EUR"]]);
});

storeTest(
  "a state value that cannot be stored fails the run naming the step and key",
  async (s) => {
    const err = await assertRejects(
      () => run(moneyFlow([]), { recovery: s.config(), epochInterval: 0 }),
      DataflowError,
    );
    assertEquals(err.stepId, "money.total");
    assertEquals(err.key, "acct");
    assertStringIncludes(err.message, "Cannot store the snapshot");
    assertStringIncludes(err.message, "Money");
    assertStringIncludes(err.message, "ClassSerde");
  },
);

storeTest("a snapshot() that throws fails the run naming the step and key", async (s) => {
  const flow = new Dataflow("snap");
  flow.input("inp", new TestingSource<[string, number]>([["k", 1]]))
    .pipe(stateful("broken", () => ({
      onItem: () => [[], false] as [never[], boolean],
      snapshot: (): number => {
        throw new TypeError("cannot snapshot");
      },
    })))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => run(flow, { recovery: s.config(), epochInterval: 0 }),
    DataflowError,
  );
  assertEquals([err.stepId, err.key], ["snap.broken", "k"]);
  assertEquals((err.cause as Error).message, "cannot snapshot");
});

storeTest("backupInterval keeps superseded epochs until they are older than it", async (s) => {
  const items: Array<number | TestingMarker> = [];
  for (let i = 0; i < 10; i++) items.push(i);
  const f = passThrough(items);
  const clock = new TestClock({ start: 0, autoAdvance: false });
  // Every activation ends an epoch; the clock does not move, so nothing is old enough.
  await f.run({ recovery: s.config({ backupInterval: 60_000 }), epochInterval: 0, clock });
  const deltas = async () => (await s.segmentNames()).filter((n) => n.startsWith("delta-")).length;
  const kept = await deltas();
  assert(kept >= 10, `every epoch's delta is kept, got ${kept}`);
  // A minute later, the next run folds them.
  clock.advance(120_000);
  f.out.length = 0;
  await f.run({ recovery: s.config({ backupInterval: 60_000 }), epochInterval: 0, clock });
  assertEquals(f.out, []);
  const after = await deltas();
  assert(after < kept, `folded: ${after} < ${kept}`);
});

Deno.test("fsBackend: one writer at a time; a SIGKILLed writer does not block the next", async () => {
  const s = await fsStore();
  try {
    // Two runs at once in this process: the second is refused while the first holds the store.
    const slow = passThrough([0, TestingSource.PAUSE(200), 1]);
    const first = slow.run({ recovery: s.config(), epochInterval: 0 });
    await new Promise((r) => setTimeout(r, 50));
    const err = await assertRejects(
      () => passThrough([9]).run({ recovery: s.config(), epochInterval: 0 }),
      RecoveryError,
    );
    assertStringIncludes(err.message, "is in use by another run");
    assertEquals((await first).status, "eof");
    // Released at the end of the run.
    assertEquals((await passThrough([9]).run({ recovery: s.config() })).status, "eof");
    // Another process holds the store, then dies by SIGKILL.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open(${JSON.stringify(`${s.location}/weir-store.lock`)}, ` +
        `{ read: true, write: true }); await f.lock(true); console.log("locked"); ` +
        `await new Promise(() => setInterval(() => {}, 1000));`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    assertEquals(new TextDecoder().decode((await reader.read()).value).trim(), "locked");
    await assertRejects(
      () => passThrough([9]).run({ recovery: s.config() }),
      RecoveryError,
      "in use by another run",
    );
    child.kill("SIGKILL");
    assertEquals((await child.status).signal, "SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel();
    assertEquals((await passThrough([9]).run({ recovery: s.config() })).status, "eof");
  } finally {
    await s.cleanup();
  }
});
