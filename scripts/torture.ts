/**
 * Crash torture: the crash test of tests/recovery/crash_slow_test.ts with many more kills. Runs
 * seed after seed (each: an uninterrupted reference run, then a crash loop of up to
 * `--per-seed` SIGKILLs, restarts until a run finishes, and a byte-for-byte comparison) until
 * `--kills` runs were interrupted, then prints a summary. Exits with 1 when any output
 * differed from its reference.
 *
 *   deno task torture [--kills 200] [--per-seed 20] [--seed 1000] [--epoch-ms 30] [--lines N]
 *                     [--store fs|kv]
 *
 * @module
 */
import { type CrashReport, crashRun, summarize } from "../tests/recovery/crash_harness.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} needs a non-negative number, got ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  return v;
}

const totalKills = flag("kills", 200);
const perSeed = flag("per-seed", 20);
const firstSeed = flag("seed", 1000);
const epochMs = flag("epoch-ms", 30);
const lines = flag("lines", 20_000);
const storeAt = Deno.args.indexOf("--store");
const store = storeAt < 0 ? "fs" : Deno.args[storeAt + 1];
if (store !== "fs" && store !== "kv") {
  console.error(`--store must be fs or kv, got ${store}`);
  Deno.exit(2);
}

const started = performance.now();
const reports: CrashReport[] = [];
let interrupted = 0;
for (let seed = firstSeed; interrupted < totalKills; seed++) {
  const kills = Math.min(perSeed, totalKills - interrupted);
  const r = await crashRun({ seed, kills, epochMs, lines, store });
  reports.push(r);
  interrupted += r.interrupted;
  console.log(summarize(r));
}
const sum = (f: (r: CrashReport) => number) => reports.reduce((n, r) => n + f(r), 0);
const failed = reports.filter((r) => !r.identical);
console.log(
  `\ntorture: ${reports.length} seeds (${firstSeed}–${firstSeed + reports.length - 1}), ` +
    `epoch ${epochMs} ms, ${lines} input lines each, ${store} store\n` +
    `  kills sent ${sum((r) => r.killsSent)}, interrupted runs ${interrupted} ` +
    `(early ${sum((r) => r.byMode.early)}, timed ${sum((r) => r.byMode.timed)}, ` +
    `write ${sum((r) => r.byMode.write)}, commit ${sum((r) => r.byMode.commit)}, ` +
    `eof ${sum((r) => r.byMode.eof)}), ` +
    `kills after exit ${sum((r) => r.killsAfterExit)}\n` +
    `  interrupted before the run's first commit ${sum((r) => r.killedBeforeFirstCommit)}, ` +
    `after all output was written ${sum((r) => r.killedAfterAllOutput)}, ` +
    `inside a commit's segment write ${sum((r) => r.killedInCommitWrite)}, ` +
    `inside a base write ${sum((r) => r.killedInBaseWrite)}` +
    (store === "kv"
      ? `, between chunk commits ${sum((r) => r.killedBetweenChunkCommits)}, ` +
        `before a record commit ${sum((r) => r.killedBeforeRecordCommit)}`
      : "") +
    `\n` +
    `  restarts ${sum((r) => r.restarts)}, ` +
    `lost=${sum((r) => r.lost)} dup=${sum((r) => r.duplicated)} ` +
    `unexpected=${sum((r) => r.unexpected)}, ` +
    `outputs identical ${reports.length - failed.length}/${reports.length}, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s`,
);
if (failed.length > 0) {
  console.log(`FAILED seeds: ${failed.map((r) => r.seed).join(", ")}`);
  Deno.exit(1);
}
