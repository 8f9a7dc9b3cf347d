// Lazy resume: a resumed run takes a key's snapshot on its first item and the other keys
// afterwards (some per activation, all at EOF), so it starts before every key is rebuilt, while
// timers and EOF still see every key and untouched keys stay in the store.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { Dataflow, DataflowError, RETAIN, statefulBatch } from "../../mod.ts";
import { inspectStore } from "../../src/recovery/admin.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { TestingMarker } from "../../src/testing/testing_source.ts";
import { fillItems, lazyFlow, restores } from "./fixtures/lazy_flow.ts";

const KEYS = 20_000;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_lazy_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs fixtures/lazy_flow.ts in a process until it committed every key, then SIGKILLs it. */
async function fillAndKill(store: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      new URL("./fixtures/lazy_flow.ts", import.meta.url).pathname,
      store,
      String(KEYS),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    for (let i = 0;; i++) {
      await new Promise((r) => setTimeout(r, 50));
      let keys = 0;
      try {
        const report = await inspectStore(fsBackend(store));
        keys = report.steps.find((s) => s.stepId === "lazy.sum")?.keys ?? 0;
      } catch {
        // Not created yet.
      }
      if (keys === KEYS) break;
      if (i > 1200) throw new Error("The fill run did not commit every key within a minute");
    }
  } finally {
    child.kill("SIGKILL");
    const status = await child.status;
    const stderr = new TextDecoder().decode((await child.output().catch(() => null))?.stderr);
    assertEquals(status.signal, "SIGKILL", stderr);
  }
}

Deno.test("a resume after a SIGKILL rebuilds only the keys it uses before processing; untouched keys stay right through epochs, a fold and a second resume, and EOF emits every key", async () => {
  await withDir(async (dir) => {
    const store = `${dir}/store`;
    await fillAndKill(store);
    const fill = fillItems(KEYS);
    // Resumed: 40 items each touching one key, one per epoch (40 deltas: a fold), then a stop
    // as abrupt as the crash (no commit of the epoch it is in).
    const touched = Array.from({ length: 40 }, (_, i) => `k${i * 487}`);
    const items: Array<[string, number] | TestingMarker> = [...fill];
    const more = touched.map((k) => [k, 1_000_000] as [string, number]);
    items.push(...more.flatMap((t) => [t, TestingSource.PAUSE(10)]), TestingSource.ABORT());
    const recovery = { backend: fsBackend(store) };
    restores.n = 0;
    restores.atFirstBatch = -1;
    const out: Array<[string, number]> = [];
    // The run's clock goes on from the crashed run's (the wall clock's), so old epochs fold.
    const opts = { epochInterval: 0, clock: new TestClock({ start: Date.now() }), recovery };
    assertEquals((await runMain(lazyFlow(items, out), opts)).status, "aborted");
    // When the first batch ran, only its key was rebuilt, not all 20000.
    assertEquals(restores.atFirstBatch, 1);
    // Every key was restored once by the end (touched ones on their item, the others after).
    assertEquals(restores.n, KEYS);
    assertEquals(out, []);
    const report = await inspectStore(fsBackend(store));
    // Folded: the base holds epochs of the resumed run.
    assert(report.segments[0]!.type === "base" && report.segments[0]!.epoch > 40);
    assertEquals(report.steps.find((s) => s.stepId === "lazy.sum")?.keys, KEYS);

    // Second resume: the source is at its end, so EOF right away: every key's sum comes out.
    restores.n = 0;
    restores.atFirstBatch = -1;
    const all: Array<[string, number]> = [];
    assertEquals((await runMain(lazyFlow(items, all), opts)).status, "eof");
    assertEquals(restores.n, KEYS);
    const want = new Map(fill.map(([k, v]) => [k, v]));
    for (const k of touched) want.set(k, want.get(k)! + 1_000_000);
    assertEquals(all.length, KEYS);
    assertEquals(new Map(all), want);
    // Emitted at EOF in key order.
    assertEquals(all.map(([k]) => k), [...want.keys()].sort());
  });
});

Deno.test("every lazily resumed key's due timer fires, before all keys were rebuilt", async () => {
  await withDir(async (dir) => {
    const n = 20_000;
    let restored = 0;
    let restoredAtFirstNotify = -1;
    const items: Array<[string, number] | TestingMarker> = Array.from(
      { length: n },
      (_, i) => [`t${i}`, i] as [string, number],
    );
    // Crash once every key's timer is set (for t = 1000) and committed; then time passes.
    items.push(TestingSource.PAUSE(10), TestingSource.ABORT(), TestingSource.PAUSE(5_000));
    const out: Array<[string, string]> = [];
    const flow = new Dataflow("timers");
    flow.input("inp", new TestingSource(items, { batchSize: 5000 }))
      .pipe(statefulBatch("due", (resume: number | undefined) => {
        if (resume !== undefined) restored++;
        let at = resume;
        return {
          onBatch() {
            at = 1000;
            return [[], RETAIN];
          },
          onNotify() {
            if (restoredAtFirstNotify < 0) restoredAtFirstNotify = restored;
            at = undefined;
            return [["fired"], RETAIN];
          },
          notifyAt: () => at,
          snapshot: () => at!,
        };
      }))
      .output("out", new TestingSink(out));
    const opts = { epochInterval: 0, recovery: { backend: fsBackend(dir), create: true } };
    assertEquals((await runMain(flow, { ...opts, clock: new TestClock() })).status, "aborted");
    assertEquals(out, []);
    // Resumed at t = 2000: every timer is due at once.
    const later = new TestClock({ start: 2000 });
    assertEquals((await runMain(flow, { ...opts, clock: later })).status, "eof");
    assertEquals(restored, n);
    // The first timers fired once one activation's share of keys (8192) was rebuilt, not all.
    assertEquals(restoredAtFirstNotify, 8192);
    assertEquals(out.length, n);
    assertEquals(new Set(out.map(([k]) => k)).size, n);
    assert(out.every(([, v]) => v === "fired"));
  });
});

Deno.test("a lazily resumed snapshot that cannot be decoded fails the run naming the key, step and segment", async () => {
  await withDir(async (dir) => {
    class Point {
      constructor(readonly x: number) {}
    }
    const serde = {
      name: "Point",
      type: Point,
      toPlain: (p: Point) => p.x,
      fromPlain: (x: number) => new Point(x),
    };
    const flow = (items: Array<[string, number] | TestingMarker>) => {
      const f = new Dataflow("pts");
      f.input("inp", new TestingSource(items))
        .pipe(statefulBatch("last", (resume: Point | undefined) => {
          let p = resume;
          return {
            onBatch(values: number[]) {
              p = new Point(values[values.length - 1]!);
              return [[], RETAIN];
            },
            snapshot: () => p!,
          };
        }))
        .output("out", new TestingSink([]));
      return f;
    };
    const items: Array<[string, number] | TestingMarker> = [
      ["a", 1],
      TestingSource.PAUSE(10),
      TestingSource.ABORT(),
      ["a", 2],
    ];
    const backend = () => fsBackend(dir);
    const opts = { epochInterval: 0, clock: new TestClock() };
    await runMain(flow(items), {
      ...opts,
      recovery: { backend: backend(), create: true, classes: [serde] },
    });
    // Resumed without the class registered: the key fails on first use.
    const err = await assertRejects(
      () => runMain(flow(items), { ...opts, recovery: { backend: backend() } }),
      DataflowError,
    );
    assertEquals([err.stepId, err.key], ["pts.last", "a"]);
    assertStringIncludes(
      err.message,
      `Step "pts.last" for key "a" failed: Cannot restore key "a" of step pts.last from segment base-0000000000000001 of the ` +
        `recovery store in ${backend().description}: The snapshot holds an instance of class ` +
        `"Point", but no ClassSerde of that name is registered (recovery option "classes")`,
    );
  });
});
