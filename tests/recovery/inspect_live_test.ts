// `inspectStore` (what `weir recovery inspect` runs) is read-only: inspecting a store 20 times
// while a run commits and folds it neither disturbs the run nor changes its output, and
// every inspection sees a consistent store.
import { assert, assertEquals } from "@std/assert";
import { Dataflow, inspectStore, keyOn, run, statefulMap, type StoreReport } from "../../mod.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { storeTest } from "./_stores.ts";

const KEYS = 40;
const MIN_ITEMS = 3000;
const INSPECTIONS = 20;

/** A keyed running sum over `items()`, one epoch per batch of 10. */
function sumFlow(items: () => Iterable<number>) {
  const out: [string, number][] = [];
  const flow = new Dataflow("live");
  flow.input("inp", new TestingSource(items(), { batchSize: 10 }))
    .pipe(
      keyOn("key", (i: number) => `k${i % KEYS}`),
      statefulMap("sum", (s: number | undefined, v: number) => {
        const n = (s ?? 0) + v;
        return [n, n];
      }),
    )
    .output("out", new TestingSink(out));
  return { flow, out };
}

storeTest(
  "a run inspected 20 times while it commits and folds finishes with the same output",
  async (s) => {
    // The input goes on until the inspections are done (and at least MIN_ITEMS), so every
    // inspection reads a store being written; the reference run then reads as many items.
    let inspecting = true;
    let count = 0;
    const live = sumFlow(function* () {
      for (let i = 0; inspecting || i < MIN_ITEMS; i++) {
        count = i + 1;
        yield i;
      }
    });
    let finished = false;
    const running = run(live.flow, { recovery: s.config(), epochInterval: 0 })
      .finally(() => finished = true);
    running.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    const reports: StoreReport[] = [];
    let duringRun = 0;
    try {
      while (reports.length < INSPECTIONS) {
        try {
          reports.push(await inspectStore(s.backend()));
        } catch (err) {
          // Before the run's first commit there is no store to inspect yet.
          if (reports.length > 0 || !String(err).includes("No recovery store")) throw err;
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        if (!finished) duringRun++;
        // Spread over the run, so that inspections meet commits and folds.
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      inspecting = false;
    }
    const summary = await running;
    assertEquals(summary.status, "eof");
    assertEquals(duringRun, INSPECTIONS, "every inspection ran while the run was writing");

    const reference = sumFlow(function* () {
      for (let i = 0; i < count; i++) yield i;
    });
    await run(reference.flow, { epochInterval: 0 });
    assertEquals(live.out.length, count);
    assertEquals(live.out, reference.out);

    // Each report is a consistent store: one chain of epochs, ending at its last epoch; the
    // epochs only move forward from one inspection to the next.
    const final = await inspectStore(s.backend());
    let prev = 0;
    for (const r of [...reports, final]) {
      assertEquals(r.flowId, "live");
      assert(r.lastEpoch >= prev, `${r.lastEpoch} after ${prev}`);
      prev = r.lastEpoch;
      const segs = r.segments;
      // Before the first commit, the store is a manifest without segments.
      assertEquals(segs.at(-1)?.epoch ?? 0, r.lastEpoch);
      for (let i = 1; i < segs.length; i++) {
        assertEquals(segs[i]!.type, "delta");
        assertEquals(segs[i]!.epoch, segs[i - 1]!.epoch + 1);
      }
      const sum = r.steps.find((x) => x.stepId === "live.sum");
      if (r.lastEpoch > 2) assert(sum !== undefined && sum.keys >= 1 && sum.keys <= KEYS);
    }
    assertEquals(final.steps.find((x) => x.stepId === "live.sum")?.keys, KEYS);
    assert(reports.some((r) => r.segments[0]?.type === "base"), "the run folded epochs");
  },
);
