import { assert, assertEquals, assertInstanceOf, assertStringIncludes } from "@std/assert";
import { type CliOptions, main, parseArgs, USAGE, UsageError } from "../src/cli.ts";

const DEFAULTS: CliOptions = {
  help: false,
  version: false,
  module: "flow.ts",
  exportName: "flow",
  factoryArgs: undefined,
  epochIntervalMs: 10_000,
  workers: 1,
  recoveryDir: undefined,
  backupIntervalMs: undefined,
  quiet: false,
  metricsPort: undefined,
  metricsHost: undefined,
};

/** The message of the UsageError `parseArgs(argv)` throws. */
function usageError(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (err) {
    assertInstanceOf(err, UsageError);
    return err.message;
  }
  throw new Error(`parseArgs(${JSON.stringify(argv)}) did not throw`);
}

Deno.test("parseArgs: defaults", () => {
  assertEquals(parseArgs(["flow.ts"]), DEFAULTS);
});

Deno.test("parseArgs: every flag, long form, as two arguments and with '='", () => {
  const expected: CliOptions = {
    ...DEFAULTS,
    module: "dir/flow.ts",
    epochIntervalMs: 2500,
    workers: 3,
    recoveryDir: "/tmp/r",
    backupIntervalMs: 60_000,
  };
  assertEquals(
    parseArgs([
      "--epoch-interval",
      "2.5",
      "--workers",
      "3",
      "--recovery-dir",
      "/tmp/r",
      "--backup-interval",
      "60",
      "dir/flow.ts",
    ]),
    expected,
  );
  assertEquals(
    parseArgs([
      "dir/flow.ts",
      "--epoch-interval=2.5",
      "--workers=3",
      "--recovery-dir=/tmp/r",
      "--backup-interval=60",
    ]),
    expected,
  );
});

Deno.test("parseArgs: every flag, short form", () => {
  assertEquals(parseArgs(["-s", "0", "-w", "2", "-r", "rec", "-b", ".5", "f.ts"]), {
    ...DEFAULTS,
    module: "f.ts",
    epochIntervalMs: 0,
    workers: 2,
    recoveryDir: "rec",
    backupIntervalMs: 500,
  });
  assertEquals(parseArgs(["-s=0.25", "f.ts"]).epochIntervalMs, 250);
  // The last occurrence wins.
  assertEquals(parseArgs(["-s", "1", "-s", "2", "f.ts"]).epochIntervalMs, 2000);
});

Deno.test("parseArgs: -h and --help win over everything but unknown flags", () => {
  const help = { ...DEFAULTS, help: true, module: "" };
  assertEquals(parseArgs(["-h"]), help);
  assertEquals(parseArgs(["--help"]), help);
  assertEquals(parseArgs(["f.ts", "-w", "2", "--help"]), help);
  assertEquals(parseArgs(["a.ts", "b.ts", "-h"]), help);
});

Deno.test("parseArgs: -V and --version win over everything but --help and unknown flags", () => {
  const version = { ...DEFAULTS, version: true, module: "" };
  assertEquals(parseArgs(["-V"]), version);
  assertEquals(parseArgs(["--version"]), version);
  assertEquals(parseArgs(["f.ts", "-w", "2", "--version"]), version);
  assertEquals(parseArgs(["-V", "--help"]), { ...DEFAULTS, help: true, module: "" });
});

Deno.test("parseArgs: the export after ':' and factory arguments as JSON", () => {
  const target = (spec: string) => {
    const o = parseArgs([spec]);
    return [o.module, o.exportName, o.factoryArgs];
  };
  assertEquals(target("file.ts:name"), ["file.ts", "name", undefined]);
  assertEquals(target('file.ts:make("x", 2)'), ["file.ts", "make", ["x", 2]]);
  assertEquals(target('file.ts:make("a:b)", {"k": [1, null]}, true)'), [
    "file.ts",
    "make",
    ["a:b)", { k: [1, null] }, true],
  ]);
  assertEquals(target("file.ts:make()"), ["file.ts", "make", []]);
  assertEquals(target("dir/flows.ts:$x_1"), ["dir/flows.ts", "$x_1", undefined]);
  assertEquals(target("../up/flow.ts"), ["../up/flow.ts", "flow", undefined]);
  // URLs keep their colons; the export comes after the last one.
  assertEquals(target("https://example.com/flow.ts"), [
    "https://example.com/flow.ts",
    "flow",
    undefined,
  ]);
  assertEquals(target("http://localhost:8000/flow.ts:other"), [
    "http://localhost:8000/flow.ts",
    "other",
    undefined,
  ]);
  assertEquals(target("npm:pkg"), ["npm:pkg", "flow", undefined]);
  // Not an identifier after the colon: all of it is the module.
  assertEquals(target("file.ts:1x"), ["file.ts:1x", "flow", undefined]);
  // `--` ends the flags.
  assertEquals(parseArgs(["--", "-odd.ts"]).module, "-odd.ts");
});

Deno.test("parseArgs: each usage error and its message", () => {
  const badJson = (() => {
    try {
      JSON.parse("[oops]");
    } catch (err) {
      return (err as Error).message;
    }
  })();
  const cases: [string[], string][] = [
    [[], "Missing the flow module, e.g. flow.ts or flow.ts:name"],
    [["-s", "1"], "Missing the flow module, e.g. flow.ts or flow.ts:name"],
    [["a.ts", "b.ts"], "Expected one flow module, got 2: a.ts b.ts"],
    [["--nope", "f.ts"], "Unknown flag --nope"],
    [["-x=1", "f.ts"], "Unknown flag -x"],
    [["-s"], "--epoch-interval needs a value"],
    [["f.ts", "--workers"], "--workers needs a value"],
    [["-r", "-s", "1", "f.ts"], "--recovery-dir needs a value"],
    [["--backup-interval=", "f.ts"], "--backup-interval needs a value"],
    [["-s", "soon", "f.ts"], '--epoch-interval needs a number of seconds >= 0, got "soon"'],
    [["-s", "-1", "f.ts"], '--epoch-interval needs a number of seconds >= 0, got "-1"'],
    [
      ["--epoch-interval=-0.5", "f.ts"],
      '--epoch-interval needs a number of seconds >= 0, got "-0.5"',
    ],
    [["-s", "1e3", "f.ts"], '--epoch-interval needs a number of seconds >= 0, got "1e3"'],
    [["-s", "Infinity", "f.ts"], '--epoch-interval needs a number of seconds >= 0, got "Infinity"'],
    [["-w", "0", "f.ts"], '--workers needs a positive integer, got "0"'],
    [["-w", "1.5", "f.ts"], '--workers needs a positive integer, got "1.5"'],
    [["-w", "-2", "f.ts"], '--workers needs a positive integer, got "-2"'],
    [["-w", "0x10", "f.ts"], '--workers needs a positive integer, got "0x10"'],
    [["-b", "x", "f.ts"], '--backup-interval needs a number of seconds >= 0, got "x"'],
    [["f.ts:make(oops)"], `The arguments of make(oops) must be JSON values: ${badJson}`],
  ];
  for (const [argv, message] of cases) assertEquals(usageError(argv), message, argv.join(" "));
});

/** Runs `main` in-process, capturing what it prints. */
async function mainIn(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { log: (t) => out.push(t), error: (t) => err.push(t) });
  return { code, out, err };
}

Deno.test("main: --help prints the usage and returns 0", async () => {
  assertEquals(await mainIn("-h"), { code: 0, out: [USAGE], err: [] });
});

Deno.test("main: --version prints weir and the version in deno.json and returns 0", async () => {
  const { version } = JSON.parse(await Deno.readTextFile("deno.json"));
  assertEquals(await mainIn("--version"), { code: 0, out: [`weir ${version}`], err: [] });
});

Deno.test("main: usage errors return 2", async () => {
  const hint = "\nRun with --help for usage";
  const cases: [string[], string][] = [
    [["--bogus", "f.ts"], "weir: Unknown flag --bogus" + hint],
    [[], "weir: Missing the flow module, e.g. flow.ts or flow.ts:name" + hint],
    [["-s", "x", "f.ts"], 'weir: --epoch-interval needs a number of seconds >= 0, got "x"' + hint],
    [["-b", "30", "f.ts"], "weir: --backup-interval needs --recovery-dir" + hint],
    [
      ["recovery", "list", "x"],
      "weir: Usage: weir recovery init [--adopt] <dir> | weir recovery inspect <dir>" + hint,
    ],
  ];
  for (const [argv, message] of cases) {
    assertEquals(await mainIn(...argv), { code: 2, out: [], err: [message] }, argv.join(" "));
  }
  // Any number of workers is fine (the module is checked next).
  for (const w of ["1", "2"]) {
    assertEquals(await mainIn("-w", w, "tests/fixtures/missing.ts"), {
      code: 2,
      out: [],
      err: ["weir: Module not found: tests/fixtures/missing.ts"],
    });
  }
});

Deno.test("main: modules and exports that can't be run", async () => {
  const flows = "; its Dataflow exports: aborting, counting, debugged, failing, flow, other";
  const m = "tests/fixtures/cli_flows.ts";
  const cases: [string, string][] = [
    [`${m}:nope`, `weir: ${m} has no export "nope"${flows}`],
    [`${m}:notAFlow`, `weir: Export "notAFlow" of ${m} is not a Dataflow (got number)${flows}`],
    [
      `${m}:notAFactory`,
      `weir: Export "notAFactory" of ${m} returned number, not a Dataflow${flows}`,
    ],
    [
      `${m}:flow(1)`,
      `weir: Export "flow" of ${m} is not a function, so it takes no arguments${flows}`,
    ],
    [
      "tests/fixtures/cli_no_flows.ts",
      'weir: tests/fixtures/cli_no_flows.ts has no export "flow"; it exports no Dataflow',
    ],
    [
      "tests/fixtures/cli_no_flows.ts:answer",
      'weir: Export "answer" of tests/fixtures/cli_no_flows.ts is not a Dataflow (got number)' +
      "; it exports no Dataflow",
    ],
  ];
  for (const [spec, message] of cases) {
    assertEquals(await mainIn(spec), { code: 2, out: [], err: [message] }, spec);
  }
});

Deno.test("main: a module or factory that throws returns 1 with the stack", async () => {
  const imp = await mainIn("tests/fixtures/cli_throws.ts");
  assertEquals(imp.code, 1);
  assertEquals(imp.err.length, 2);
  assertStringIncludes(imp.err[0]!, "weir: Could not import tests/fixtures/cli_throws.ts: ");
  assertStringIncludes(imp.err[0]!, "module exploded");
  assert(imp.err[1]!.startsWith("Caused by: Error: module exploded\n    at "), imp.err[1]);

  const fac = await mainIn("tests/fixtures/cli_flows.ts:broken");
  assertEquals(fac.code, 1);
  assertEquals(
    fac.err[0],
    'weir: Export "broken" of tests/fixtures/cli_flows.ts threw: no flow today',
  );
  assert(
    fac.err[1]!.startsWith("Caused by: RangeError: no flow today\n    at broken "),
    fac.err[1],
  );
});

Deno.test("main: a path resolved against the working directory, with spaces and '#'", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/my flow #1%.ts`;
    const mod = import.meta.resolve("../mod.ts");
    const testing = import.meta.resolve("../src/testing/mod.ts");
    await Deno.writeTextFile(
      file,
      `import { Dataflow } from ${JSON.stringify(mod)};\n` +
        `import { TestingSink, TestingSource } from ${JSON.stringify(testing)};\n` +
        `export const seen: number[] = [];\n` +
        `export const flow = new Dataflow("odd_name");\n` +
        `flow.input("inp", new TestingSource([7])).output("out", new TestingSink(seen));\n`,
    );
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    let result;
    try {
      result = await mainIn("-s", "0", "my flow #1%.ts");
    } finally {
      Deno.chdir(cwd);
    }
    assertEquals(result, { code: 0, out: [], err: [] });
    const url = new URL("file:///");
    url.pathname = file.replaceAll("%", "%25");
    const loaded = await import(url.href);
    assertEquals(loaded.seen, [7]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main: SIGTERM stops the running flow (143) and its listeners go when main returns", async () => {
  // SIGTERM, not SIGINT: the test runner itself reacts to SIGINT. A listener of the test's own
  // keeps the process alive whatever main does.
  let ours = 0;
  const guard = () => ours++;
  Deno.addSignalListener("SIGTERM", guard);
  const dir = await Deno.makeTempDir();
  try {
    const mod = import.meta.resolve("../mod.ts");
    const testing = import.meta.resolve("../src/testing/mod.ts");
    await Deno.writeTextFile(
      `${dir}/flow.ts`,
      `import { Dataflow, inspect } from ${JSON.stringify(mod)};\n` +
        `import { TestingSink, TestingSource } from ${JSON.stringify(testing)};\n` +
        `export const seen: string[] = [];\n` +
        `export const flow = new Dataflow("sigterm");\n` +
        `flow.input("inp", new TestingSource(["a", TestingSource.PAUSE(20_000), "b"]))\n` +
        `  .pipe(inspect("kill", () => Deno.kill(Deno.pid, "SIGTERM")))\n` +
        `  .output("out", new TestingSink(seen));\n`,
    );
    const t0 = performance.now();
    // The default 10 s epochs and a 20 s pause: only the stop's wake-up ends the run early.
    const result = await mainIn(`${dir}/flow.ts`);
    const ms = performance.now() - t0;
    assertEquals(result, {
      code: 143,
      out: [],
      err: [
        "weir: stopping after the current epoch (SIGTERM); send SIGTERM or SIGINT again to exit at once",
      ],
    });
    assert(ms < 5_000, `the stop took ${ms} ms`);
    assertEquals((await import(`${dir}/flow.ts`)).seen, ["a"]);
    // main's listener is gone: another SIGTERM reaches only the test's own.
    const before = ours;
    Deno.kill(Deno.pid, "SIGTERM");
    const end = performance.now() + 5_000;
    while (ours === before && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
    assertEquals(ours, before + 1);
    assertEquals(result.err.length, 1);
  } finally {
    Deno.removeSignalListener("SIGTERM", guard);
    await Deno.remove(dir, { recursive: true });
  }
});

const dec = new TextDecoder();

/** Runs the CLI in a subprocess. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", "src/cli.ts", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli: --help prints the usage and exits 0", async () => {
  const [long, short] = await Promise.all([cli("--help"), cli("-h")]);
  assertEquals(long, { code: 0, stdout: USAGE + "\n", stderr: "" });
  assertEquals(short, long);
});

Deno.test("cli: --version and -V print the version and exit 0", async () => {
  const [long, short] = await Promise.all([cli("--version"), cli("-V")]);
  assertEquals(long, { code: 0, stdout: "weir 0.1.0\n", stderr: "" });
  assertEquals(short, long);
});

Deno.test("cli: runs the default export, a named export, and factories", async () => {
  const m = "tests/fixtures/cli_flows.ts";
  const [def, other, made, madeAsync] = await Promise.all([
    cli(m),
    cli("-s", "0", `${m}:other`),
    cli("--epoch-interval", "0.01", `${m}:make("p", 2)`),
    cli(`${m}:makeAsync`),
  ]);
  assertEquals(def, { code: 0, stdout: "2\n4\n6\n", stderr: "" });
  assertEquals(other, { code: 0, stdout: '{"s":"x"}\n{"s":"y"}\n', stderr: "" });
  assertEquals(made, { code: 0, stdout: "p0\np1\n", stderr: "" });
  assertEquals(madeAsync, { code: 0, stdout: "async0\n", stderr: "" });
});

Deno.test("cli: a failing flow exits 1 naming the step, with the cause's stack", async () => {
  const r = await cli("tests/fixtures/cli_flows.ts:failing");
  assertEquals([r.code, r.stdout], [1, "1\n"]);
  const lines = r.stderr.split("\n");
  assertEquals(lines[0], 'weir: Step "cli_failing.pipe_1" failed: two is not allowed');
  assertEquals(lines[1], "Caused by: TypeError: two is not allowed");
  assertStringIncludes(lines[2]!, "tests/fixtures/cli_flows.ts:");
});

Deno.test("cli: an aborted run exits 1", async () => {
  assertEquals(await cli("tests/fixtures/cli_flows.ts:aborting"), {
    code: 1,
    stdout: "1\n",
    stderr: 'weir: The run of "cli_aborting" was aborted\n',
  });
});

Deno.test("cli: bad flags exit 2", async () => {
  const m = "tests/fixtures/cli_flows.ts";
  const hint = "\nRun with --help for usage\n";
  const results = await Promise.all([
    cli("--bogus", m),
    cli("-w", "two", m),
  ]);
  assertEquals(results, [
    { code: 2, stdout: "", stderr: "weir: Unknown flag --bogus" + hint },
    { code: 2, stdout: "", stderr: 'weir: --workers needs a positive integer, got "two"' + hint },
  ]);
});

Deno.test("cli: -w 2 runs the flow on two workers, a factory's arguments included", async () => {
  const counting = await cli("-w", "2", "tests/fixtures/cli_flows.ts:counting");
  assertEquals(counting.code, 0, counting.stderr);
  // Each key's counts keep their order; keys interleave in any order across workers.
  const lines = counting.stdout.trimEnd().split("\n");
  assertEquals(lines.filter((l) => l.startsWith("a=")), ["a=1", "a=2"]);
  assertEquals(lines.filter((l) => l.startsWith("b=")), ["b=1"]);
  assertEquals(lines.length, 3);
  const made = await cli("-w", "2", 'tests/fixtures/cli_flows.ts:make("p", 3)');
  assertEquals(made, { code: 0, stdout: "p0\np1\np2\n", stderr: "" });
});

Deno.test("cli: inspectDebug prints the index of the worker that saw the item", async () => {
  const one = await cli("tests/fixtures/cli_flows.ts:debugged");
  assertEquals(
    one.stdout,
    [..."abcdefgh"].map((k) => `cli_debugged.insp W0 @1: [ "${k}", 1 ]\n`).join(""),
  );
  const two = await cli("-w", "2", "tests/fixtures/cli_flows.ts:debugged");
  assertEquals(two.code, 0, two.stderr);
  // The exchange's key hash gives worker 1 the keys b, d, f, h and worker 0 the others.
  assertEquals(two.stdout.trimEnd().split("\n").sort(), [
    'cli_debugged.insp W0 @1: [ "a", 1 ]',
    'cli_debugged.insp W0 @1: [ "c", 1 ]',
    'cli_debugged.insp W0 @1: [ "e", 1 ]',
    'cli_debugged.insp W0 @1: [ "g", 1 ]',
    'cli_debugged.insp W1 @1: [ "b", 1 ]',
    'cli_debugged.insp W1 @1: [ "d", 1 ]',
    'cli_debugged.insp W1 @1: [ "f", 1 ]',
    'cli_debugged.insp W1 @1: [ "h", 1 ]',
  ]);
});

Deno.test("cli: -r resumes from the store; recovery init and inspect", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_cli_recovery_" });
  try {
    const m = "tests/fixtures/cli_flows.ts:counting";
    const missing = await cli("-r", dir, m);
    assertEquals(missing.code, 1);
    assertStringIncludes(missing.stderr, `No recovery store in directory ${dir}`);
    assertStringIncludes(missing.stderr, "weir recovery init");
    assertEquals(await cli("recovery", "init", dir), {
      code: 0,
      stdout: `Initialised an empty recovery store in ${dir}\n`,
      stderr: "",
    });
    assertEquals(await cli("-r", dir, "-s", "0", "-b", "60", m), {
      code: 0,
      stdout: "a=1\nb=1\na=2\n",
      stderr: "",
    });
    // The second run continues after the EOF marker with the counts restored.
    assertEquals(await cli("-r", dir, m), {
      code: 0,
      stdout: "a=3\n",
      stderr: "weir: resumed from epoch 4\n",
    });
    const inspected = await cli("recovery", "inspect", dir);
    assertEquals(inspected.code, 0);
    const lines = inspected.stdout.split("\n");
    assertStringIncludes(
      lines[0]!,
      `Recovery store ${dir}: flow cli_counting, last committed epoch`,
    );
    assert(
      lines.some((l) => /^ {2}cli_counting\.count {2}state {2}2 keys {2}\d+ B$/.test(l)),
      inspected.stdout,
    );
    assert(
      lines.some((l) => /^ {2}cli_counting\.inp {2}source {2}1 partitions/.test(l)),
      inspected.stdout,
    );
    // A store can't be initialised twice.
    const again = await cli("recovery", "init", dir);
    assertEquals(again.code, 1);
    assertStringIncludes(again.stderr, "already holds a recovery store");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a store whose manifest was lost is refused until recovery init --adopt", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_cli_adopt_" });
  try {
    const m = "tests/fixtures/cli_flows.ts:counting";
    assertEquals((await cli("recovery", "init", dir)).code, 0);
    assertEquals((await cli("-r", dir, "-s", "0", m)).stdout, "a=1\nb=1\na=2\n");
    await Deno.remove(`${dir}/weir-store.json`);
    const lost = new RegExp(
      `^weir: The recovery store in directory ${dir} has no manifest but holds \\d+ ` +
        `segments? \\(epochs? [\\d to]+\\): its manifest was lost\\. Restore the manifest ` +
        `from a backup, or adopt the segments with initStore\\(backend, now, \\{ adopt: ` +
        `true \\}\\) \\(CLI: weir recovery init --adopt <dir>\\) and run again\n`,
    );
    for (const args of [["-r", dir, m], ["recovery", "inspect", dir], ["recovery", "init", dir]]) {
      const r = await cli(...args);
      assertEquals(r.code, 1, args.join(" "));
      assertEquals(r.stdout, "");
      assert(lost.test(r.stderr), r.stderr);
    }
    assertEquals(await cli("recovery", "init", "--adopt", dir), {
      code: 0,
      stdout: `Initialised a recovery store in ${dir}, adopting the segments it holds\n`,
      stderr: "",
    });
    assertEquals(await cli("-r", dir, m), {
      code: 0,
      stdout: "a=3\n",
      stderr: "weir: resumed from epoch 4\n",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: -r kv:PATH keeps the store in a Deno KV database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_cli_kv_" });
  try {
    const m = "tests/fixtures/cli_flows.ts:counting";
    const store = `kv:${dir}/weir.sqlite`;
    assertEquals((await cli("recovery", "init", store)).code, 0);
    assertEquals(await cli("-r", store, "-s", "0", m), {
      code: 0,
      stdout: "a=1\nb=1\na=2\n",
      stderr: "",
    });
    assertEquals(await cli("-r", store, m), {
      code: 0,
      stdout: "a=3\n",
      stderr: "weir: resumed from epoch 4\n",
    });
    const inspected = await cli("recovery", "inspect", store);
    assertEquals(inspected.code, 0);
    assertStringIncludes(inspected.stdout, "cli_counting.count  state  2 keys");
    // The directory holds the database, not a filesystem store.
    assertEquals([...Deno.readDirSync(dir)].some((e) => e.name === "weir-store.json"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
