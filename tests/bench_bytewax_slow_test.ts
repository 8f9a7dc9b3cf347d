/**
 * `deno task bench:bytewax` on its tiny size: weir, the plain loop and Bytewax 0.21.1 must
 * produce the same outputs (the bench checks every round's digest and fails otherwise), and
 * those outputs are pinned here. The Bytewax test is skipped, with the reason printed, when
 * python3, its venv module or the install of Bytewax is missing.
 */
import { assertEquals, assertThrows } from "@std/assert";
import { checkSame, digest } from "../bench/bytewax/workloads.ts";
import { bytewaxPython } from "../bench/bytewax/venv.ts";

// Decoded: the checkout's path may contain spaces (%20 in a URL).
const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const BENCH = decodeURIComponent(new URL("../bench/bytewax.ts", import.meta.url).pathname);

/** Line counts and SHA-256 of the sorted output lines of each workload at `--size tiny`. */
const TINY: Record<string, [number, string]> = {
  wordcount: [3518, "e950d6b53696ce34ff6c37acec53629ec3ee380b6a2ca8d0eaa47fe88a60b1b5"],
  running_sum: [5000, "ce2cd8ab5a835ad0a608dc6a1c44aa62fc2c52505135efdbfc242b53d169c956"],
  tumbling: [3925, "c682b5f1aa538845e7e3c19ca1fc8bf52bf4143a4b5120afc8d0d57b97aa3c93"],
  session: [345, "f5af7403678abec4b003f392dbf811a10f2a548545b4297efbbde43c64730e16"],
};

type BenchJson = {
  bytewax: boolean;
  results: { workload: string; outputLines: number; sha256: string; bytewaxMs: number[] }[];
};

async function runBench(...extra: string[]): Promise<BenchJson> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      BENCH,
      "--size",
      "tiny",
      "--rounds",
      "1",
      "--json",
      ...extra,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 0, `bench failed:\n${err}`);
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

function pinned(json: BenchJson): Record<string, [number, string]> {
  return Object.fromEntries(
    json.results.map((r) => [r.workload, [r.outputLines, r.sha256]]),
  );
}

Deno.test("bench:bytewax digest: sorted tab-separated lines, SHA-256", async () => {
  // sha256("a\t1\nb\t0\t2\n") — the sort puts "a…" first whatever the output order.
  assertEquals(await digest([["b", [0, 2]], ["a", 1]]), {
    lines: 2,
    sha256: "3c2c042871ed9404823adb3e58fd3109937d7c143dda95efa03e1aa4a67cabbf",
  });
});

Deno.test("bench:bytewax fails loudly when a side's output differs from weir's", () => {
  const weir = { lines: 3, sha256: "aaa" };
  checkSame("session", weir, "Bytewax 0.21.1", { lines: 3, sha256: "aaa" });
  assertThrows(
    () => checkSame("session", weir, "Bytewax 0.21.1", { lines: 2, sha256: "bbb" }),
    Error,
    `Outputs differ on workload "session": Bytewax 0.21.1's sorted output has 2 lines with ` +
      `SHA-256 bbb, weir's 3 lines with SHA-256 aaa; they must be identical, so compare the ` +
      `flows in bench/bytewax/workloads.ts and bench/bytewax/flows.py on a small input ` +
      `(deno task bench:bytewax -- --size tiny)`,
  );
});

Deno.test("bench:bytewax --no-bytewax: weir and the loop agree on the pinned outputs", async () => {
  const json = await runBench("--no-bytewax");
  assertEquals(json.bytewax, false);
  assertEquals(pinned(json), TINY);
});

const python = await bytewaxPython(() => {});
if ("skip" in python) console.warn(`bench_bytewax_slow_test: ${python.skip}`);

Deno.test({
  name: "bench:bytewax: Bytewax 0.21.1 agrees with weir and the loop on the pinned outputs",
  ignore: "skip" in python,
  fn: async () => {
    const json = await runBench();
    assertEquals(json.bytewax, true);
    assertEquals(pinned(json), TINY);
    for (const r of json.results) assertEquals(r.bytewaxMs.length, 1);
  },
});
