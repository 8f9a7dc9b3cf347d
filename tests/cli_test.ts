import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { parseArgs, UsageError } from "../src/cli.ts";

Deno.test("parseArgs: defaults", () => {
  assertEquals(parseArgs(["flow.ts"]), {
    help: false,
    module: "flow.ts",
    exportName: "flow",
    factoryArgs: undefined,
    epochIntervalMs: 10_000,
    workers: 1,
    recoveryDir: undefined,
    backupIntervalMs: undefined,
  });
});

Deno.test("parseArgs: every flag, long and short, with and without '='", () => {
  const long = parseArgs([
    "--epoch-interval",
    "2.5",
    "--workers=3",
    "--recovery-dir",
    "/tmp/r",
    "--backup-interval=60",
    "dir/flow.ts:other",
  ]);
  assertEquals(
    [
      long.epochIntervalMs,
      long.workers,
      long.recoveryDir,
      long.backupIntervalMs,
      long.module,
      long.exportName,
    ],
    [2500, 3, "/tmp/r", 60_000, "dir/flow.ts", "other"],
  );
  const short = parseArgs(["-s", "0", "-w", "2", "-r", "rec", "-b", "0", "f.ts"]);
  assertEquals(
    [short.epochIntervalMs, short.workers, short.recoveryDir, short.backupIntervalMs],
    [0, 2, "rec", 0],
  );
  assertEquals(parseArgs(["-h"]).help, true);
  assertEquals(parseArgs(["--help", "whatever.ts"]).help, true);
});

Deno.test("parseArgs: factory exports with JSON arguments", () => {
  const o = parseArgs(['flows.ts:make("orders", 3, {"a": [1]})']);
  assertEquals([o.module, o.exportName, o.factoryArgs], ["flows.ts", "make", ["orders", 3, {
    a: [1],
  }]]);
  assertEquals(parseArgs(["flows.ts:make()"]).factoryArgs, []);
  assertEquals(parseArgs(["https://example.com/flow.ts"]).module, "https://example.com/flow.ts");
  assertEquals(parseArgs(["npm:pkg"]).module, "npm:pkg");
});

Deno.test("parseArgs: usage errors name the problem", () => {
  const cases: [string[], string][] = [
    [[], "Missing the flow module"],
    [["a.ts", "b.ts"], "Expected one flow module, got 2: a.ts b.ts"],
    [["--nope", "f.ts"], "Unknown flag --nope"],
    [["-s"], "--epoch-interval needs a value"],
    [["-s", "-w", "1", "f.ts"], "--epoch-interval needs a value"],
    [["-s", "soon", "f.ts"], '--epoch-interval needs a number of seconds >= 0, got "soon"'],
    [["-s", "-1", "f.ts"], "--epoch-interval needs a value"],
    [["--epoch-interval=-1", "f.ts"], '--epoch-interval needs a number of seconds >= 0, got "-1"'],
    [["-w", "0", "f.ts"], '--workers needs a positive integer, got "0"'],
    [["-w", "1.5", "f.ts"], '--workers needs a positive integer, got "1.5"'],
    [["-b", "x", "f.ts"], '--backup-interval needs a number of seconds >= 0, got "x"'],
    [["f.ts:make(oops)"], "The arguments of make(oops) must be JSON values"],
  ];
  for (const [argv, message] of cases) assertThrows(() => parseArgs(argv), UsageError, message);
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli.ts", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli: --help prints usage and exits 0", async () => {
  const r = await cli("--help");
  assertEquals(r.code, 0);
  assertStringIncludes(r.stdout, "Usage: weir [flags] <flow.ts>[:<name>]");
});

Deno.test("cli: runs the default export, a named export, and a factory", async () => {
  assertEquals(await cli("tests/fixtures/cli_flows.ts"), {
    code: 0,
    stdout: "2\n4\n6\n",
    stderr: "",
  });
  assertEquals((await cli("-s", "0", "tests/fixtures/cli_flows.ts:other")).stdout, "x\ny\n");
  assertEquals((await cli('tests/fixtures/cli_flows.ts:make("p", 2)')).stdout, "p0\np1\n");
});

Deno.test("cli: a failing flow exits 1 naming the step, with the cause", async () => {
  const r = await cli("tests/fixtures/cli_flows.ts:failing");
  assertEquals(r.code, 1);
  assertEquals(r.stdout, "1\n");
  assertStringIncludes(r.stderr, 'weir: Step "cli_failing.pipe_1" failed: two is not allowed');
  assertStringIncludes(r.stderr, "Caused by: TypeError: two is not allowed");
});

Deno.test("cli: usage errors and unavailable features exit 2", async () => {
  const cases: [string[], string][] = [
    [["--bogus", "f.ts"], "weir: Unknown flag --bogus"],
    [
      ["tests/fixtures/cli_flows.ts:nope"],
      'has no export "nope"; its Dataflow exports: failing, flow, other',
    ],
    [
      ["tests/fixtures/cli_flows.ts:notAFlow"],
      'Export "notAFlow" of tests/fixtures/cli_flows.ts is not a Dataflow',
    ],
    [["tests/fixtures/missing.ts"], "Could not import tests/fixtures/missing.ts"],
    [
      ["-w", "2", "tests/fixtures/cli_flows.ts"],
      "several workers are not available yet in this version",
    ],
    [
      ["-r", "/tmp/x", "tests/fixtures/cli_flows.ts"],
      "recovery is not available yet in this version",
    ],
  ];
  for (const [args, message] of cases) {
    const r = await cli(...args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, message);
  }
});
