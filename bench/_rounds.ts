/**
 * The alternating-rounds harness of `bench/throughput.ts` and `bench/stateful.ts`: weir and a
 * plain loop run in turn for a number of rounds after a warm-up, each round's weir / loop ratio
 * of wall time and of the process's CPU time is kept, and the medians are what the benches
 * print (absolute times on a shared machine are noise; ratios within a round are not).
 *
 * @module
 */
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";

/** CPU time of this process (user + system), ms: unlike wall time, not stretched by other load. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The median of `xs` (sorted in place), as text. */
export function median(xs: number[]): string {
  xs.sort((x, y) => x - y);
  return xs[Math.floor(xs.length / 2)]!.toFixed(2);
}

/** What {@linkcode alternate} measured: per round, the ratios and both sides' wall times. */
export interface Rounds {
  readonly walls: number[];
  readonly cpus: number[];
  /** Wall time of each side per round, ms. */
  readonly weirMs: number[];
  readonly loopMs: number[];
}

let fullGc: (() => void) | undefined;

/**
 * Runs `weir` then `loop` for `rounds` rounds after one warm-up of each, calls `check` with
 * both results of every round (it throws when they differ), and returns the ratios. With
 * `gcFirst`, a full garbage collection precedes each timed run, so that neither side pays for
 * the other's garbage.
 */
export async function alternate<T>(
  rounds: number,
  weir: () => Promise<T>,
  loop: () => T,
  check: (weirResult: T, loopResult: T) => void,
  gcFirst = false,
): Promise<Rounds> {
  if (gcFirst && fullGc === undefined) {
    v8.setFlagsFromString("--expose-gc");
    fullGc = vm.runInNewContext("gc") as () => void;
  }
  const gc = gcFirst ? fullGc! : () => {};
  const out: Rounds = { walls: [], cpus: [], weirMs: [], loopMs: [] };
  await weir(); // warm-up
  loop();
  for (let r = 0; r < rounds; r++) {
    gc();
    let t = performance.now();
    let c = cpuMs();
    const a = await weir();
    const tw = performance.now() - t;
    const cw = cpuMs() - c;
    gc();
    t = performance.now();
    c = cpuMs();
    const b = loop();
    const tl = performance.now() - t;
    const cl = cpuMs() - c;
    check(a, b);
    out.walls.push(tw / tl);
    out.cpus.push(cw / cl);
    out.weirMs.push(tw);
    out.loopMs.push(tl);
  }
  return out;
}
