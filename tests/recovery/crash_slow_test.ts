// Real processes, real SIGKILLs: the flow of fixtures/crash_flow.ts (FileSource → running sum
// per key and tumbling window counts → FileSink/DirSink, recovery in a filesystem store) is
// killed at seeded random moments and restarted until it finishes; its output must equal an
// uninterrupted run's byte for byte. `deno task torture` runs the same with 200 kills.
import { assert, assertEquals } from "@std/assert";
import { type CrashReport, crashRun, summarize } from "./crash_harness.ts";

/** Seeds (odd: the running sums go to a DirSink of 4 files; even: to one FileSink). */
const SEEDS = [1, 2, 3];
const KILLS_PER_SEED = 10;

Deno.test("crash test: SIGKILL at random moments, restart, output identical to an uninterrupted run", async (t) => {
  const reports: CrashReport[] = [];
  for (const seed of SEEDS) {
    await t.step(`seed ${seed}`, async () => {
      const r = await crashRun({ seed, kills: KILLS_PER_SEED });
      reports.push(r);
      console.log(summarize(r));
      // Exactly once: nothing lost, nothing duplicated, byte for byte.
      assertEquals(r.diffs, []);
      assertEquals([r.lost, r.duplicated, r.unexpected, r.identical], [0, 0, 0, true]);
      assertEquals(
        r.files,
        seed % 2 === 1
          ? ["running/part_0", "running/part_1", "running/part_2", "running/part_3", "windows.txt"]
          : ["running.txt", "windows.txt"],
      );
      // One line per input line, plus the window counts.
      assert(r.expectedLines > r.lines, `${r.expectedLines} lines`);
      // Every run but the last died of the signal; a kill after a run had ended (at most the
      // last one, which may aim too late) is no interruption.
      assertEquals(r.runs, r.interrupted + 1);
      assertEquals(r.history.slice(0, -1).every((h) => h.interrupted), true);
      assertEquals(r.history.at(-1)!.interrupted, false);
      assert(r.killsAfterExit <= 1, `${r.killsAfterExit} kills after exit`);
      assert(r.interrupted <= KILLS_PER_SEED);
    });
  }
  // CSVSource → running sums → JSONLinesSink: record-boundary offsets and truncation under
  // SIGKILL for the file formats.
  await t.step("seed 5, CSV source and JSON lines sink", async () => {
    const r = await crashRun({ seed: 5, kills: 6, sink: "csv" });
    reports.push(r);
    console.log(summarize(r));
    assertEquals(r.diffs, []);
    assertEquals([r.lost, r.duplicated, r.unexpected, r.identical], [0, 0, 0, true]);
    assertEquals(r.files, ["running.jsonl", "windows.txt"]);
    assertEquals(r.runs, r.interrupted + 1);
  });
  // The same against the Deno KV backend (commits are KV transactions, not files; segments
  // span several of them, and `commit` kills land between them).
  await t.step("seed 4, Deno KV store", async () => {
    const r = await crashRun({ seed: 4, kills: 8, store: "kv" });
    reports.push(r);
    console.log(summarize(r));
    assertEquals(r.diffs, []);
    assertEquals([r.lost, r.duplicated, r.unexpected, r.identical], [0, 0, 0, true]);
    assertEquals(r.store, "kv");
    assertEquals(r.runs, r.interrupted + 1);
    assert(r.interrupted >= 5, `${r.interrupted} kills interrupted a run`);
    // Seed 4 draws two `commit` kills: inside multi-commit segment writes.
    assertEquals(r.byMode.commit, r.killedBetweenChunkCommits + r.killedBeforeRecordCommit);
    assert(r.byMode.commit >= 1, `${r.byMode.commit} kills inside a segment write`);
  });
  // Two workers: the running sums are computed on the worker owning the key and written by
  // the worker owning the file; every worker's snapshots go into one commit per epoch.
  for (const [seed, sink] of [[6, "file"], [7, "dir"]] as const) {
    await t.step(`seed ${seed}, 2 workers, ${sink} sink`, async () => {
      const r = await crashRun({ seed, kills: 6, sink, workers: 2 });
      reports.push(r);
      console.log(summarize(r));
      assertEquals(r.diffs, []);
      assertEquals([r.lost, r.duplicated, r.unexpected, r.identical], [0, 0, 0, true]);
      assertEquals(r.workers, 2);
      assertEquals(r.runs, r.interrupted + 1);
    });
  }
  const total = reports.reduce((n, r) => n + r.interrupted, 0);
  console.log(`crash test: ${total} interrupted runs over ${reports.length} seeds`);
  assertEquals(reports.length, SEEDS.length + 4);
  assert(total >= 20, `only ${total} kills interrupted a run`);
});
