/**
 * weir's command line. Deno only: unlike the rest of `src/`, this module uses `Deno.*` (it
 * reads the arguments, imports the flow's file and exits), so it must not be imported by code
 * meant for browsers.
 *
 * ```sh
 * deno run -A jsr:@weir/weir/cli [flags] path/to/flow.ts[:name]
 * deno task run examples/basic.ts          # in this repository
 * ```
 *
 * The flow's module must import weir from the same place as the CLI (the same JSR version,
 * or the same local checkout), so that its `Dataflow` is the class the CLI runs.
 *
 * @module
 */
import { Dataflow } from "./dataflow/dataflow.ts";
import { isDataflowError } from "./errors.ts";
import { run } from "./runtime/run.ts";
import { fsBackend } from "./recovery/deno_fs.ts";
import { kvBackend } from "./recovery/deno_kv.ts";
import type { RecoveryBackend } from "./recovery/backend.ts";
import { initStore, inspectStore, type StoreReport } from "./recovery/admin.ts";
import { RecoveryError } from "./recovery/errors.ts";
import { VERSION } from "./version.ts";
import { visualize, type VisualizeFormat } from "./dataflow/visualize.ts";
import type { RunProgress, Tracer } from "./observe/monitor.ts";
import { formatProgress } from "./observe/progress_line.ts";

/**
 * The usage text printed by `--help`.
 *
 * @example
 * ```ts
 * import { USAGE } from "@weir/weir/cli";
 * import { assert } from "@std/assert";
 *
 * assert(USAGE.startsWith("Usage: weir [flags] <flow.ts>[:<name>]"));
 * ```
 */
export const USAGE: string = `Usage: weir [flags] <flow.ts>[:<name>]
       weir recovery init [--adopt] <dir>
       weir recovery inspect <dir>
       weir visualize [--format mermaid|dot|json] <flow.ts>[:<name>]

Runs the Dataflow exported as <name> (default: flow) by the module <flow.ts> (a path,
resolved against the working directory, or a URL). If the export is a function, it is
called (with JSON arguments if given) and must return a Dataflow:
  weir flows.ts:makeFlow("orders", 3)

Flags:
  -s, --epoch-interval SECONDS   epoch length, a number >= 0 (default 10)
  -w, --workers N                number of workers (default 1); with N > 1, N Web Workers
                                 each import the module and run the flow (no progress
                                 line, spans or --metrics-port yet)
  -r, --recovery-dir DIR         snapshot every epoch to the store in DIR and resume from
                                 its last committed epoch (create it with recovery init);
                                 kv:PATH uses a Deno KV database (run with --unstable-kv)
  -b, --backup-interval SECONDS  with -r: how long superseded epochs are kept (default 0)
  -q, --quiet                    print no progress (default: a line on stderr, redrawn on
                                 a terminal; otherwise, past the first second, a line per
                                 epoch at most every second, and a last one at the end)
  -m, --metrics-port PORT        serve Prometheus metrics at /metrics and a live dashboard
                                 at / on PORT while the flow runs (0: a free port)
      --metrics-host ADDRESS     the address to bind (default 127.0.0.1, this machine only)
  -h, --help                     print this help
  -V, --version                  print weir's version

"recovery init" creates an empty store in DIR (the first run binds it to its flow);
with --adopt, it writes a manifest over the segments of a store whose manifest was lost;
"recovery inspect" prints a store's epochs, segments, and keys and bytes per step.
"visualize" prints the flow's graph (default Mermaid) without running it.

With OTEL_DENO=true (and --allow-env), each epoch and commit is an OpenTelemetry span
(weir.epoch, weir.commit) that Deno exports over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT).

SIGINT (Ctrl-C) or SIGTERM stops the run gracefully: it reads no more input, finishes the
current epoch (with -r it commits it, so the next run continues where this one stopped) and
exits; windows are not closed. A second signal exits at once, without finishing the epoch
(with -r the next run resumes from the last committed epoch).

Exit codes: 0 the flow ran to the end, 1 it failed, 2 a usage error, 130 or 143 it was
stopped by SIGINT or SIGTERM.`;

/**
 * A mistake on the command line, or a flow module that can't be used: `main` prints
 * `weir: <message>` and returns exit code 2.
 *
 * @example
 * ```ts
 * import { parseArgs, UsageError } from "@weir/weir/cli";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const err = assertThrows(() => parseArgs(["--frobnicate"]), UsageError);
 * assertEquals(err.message, "Unknown flag --frobnicate");
 * ```
 */
export class UsageError extends Error {
  /**
   * A usage error; `main` prints it after `weir: `.
   *
   * @param message What is wrong, in sentence case without a trailing period.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What the command line asked for: the result of {@linkcode parseArgs}. */
export interface CliOptions {
  /** `-h`/`--help` was given: print the usage and do nothing else. */
  readonly help: boolean;
  /** `-V`/`--version` was given (and not `--help`): print the version and do nothing else. */
  readonly version: boolean;
  /** The module path or URL, as given. */
  readonly module: string;
  /** The export to run (default `flow`). */
  readonly exportName: string;
  /**
   * The arguments for a function export, parsed from `name(...)` as a JSON array, or
   * `undefined` when no argument list was given.
   */
  readonly factoryArgs: unknown[] | undefined;
  /** Epoch length in milliseconds (default 10 000). */
  readonly epochIntervalMs: number;
  /** Worker count (default 1). */
  readonly workers: number;
  /** Recovery directory, if given. */
  readonly recoveryDir: string | undefined;
  /** Backup interval in milliseconds, if given. */
  readonly backupIntervalMs: number | undefined;
  /** `-q`/`--quiet`: no progress on stderr. */
  readonly quiet: boolean;
  /** `--metrics-port`: serve metrics and the dashboard on this port. */
  readonly metricsPort: number | undefined;
  /** `--metrics-host`: the address the metrics server binds (default 127.0.0.1). */
  readonly metricsHost: string | undefined;
}

/** Where {@linkcode main} prints; `console` by default. */
export interface CliOutput {
  /** Prints normal output (the usage text). */
  log(text: string): void;
  /** Prints diagnostics. */
  error(text: string): void;
}

const FLAG_NAMES: Readonly<Record<string, string>> = {
  "-s": "epoch-interval",
  "--epoch-interval": "epoch-interval",
  "-w": "workers",
  "--workers": "workers",
  "-r": "recovery-dir",
  "--recovery-dir": "recovery-dir",
  "-b": "backup-interval",
  "--backup-interval": "backup-interval",
  "-m": "metrics-port",
  "--metrics-port": "metrics-port",
  "--metrics-host": "metrics-host",
};

const DECIMAL = /^(\d+\.?\d*|\.\d+)$/;
/** A value that starts with "-" but is meant as a (bad) number, not as the next flag. */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)$/;

function seconds(flag: string, value: string): number {
  if (!DECIMAL.test(value) || !Number.isFinite(Number(value))) {
    throw new UsageError(`--${flag} needs a number of seconds >= 0, got "${value}"`);
  }
  return Number(value) * 1000;
}

/**
 * Parses the command line, without running or importing anything.
 *
 * Flags take their value as the next argument or after `=` (`-s 5`, `--epoch-interval=5`);
 * `--` ends the flags. The flow is `path[:name]` or `path:name(json, ...)`.
 *
 * @param argv The arguments after the program, e.g. `Deno.args`.
 * @returns The options; with `help: true` or `version: true` the other fields are defaults.
 * @throws {UsageError} On an unknown flag, a missing or bad value, or a missing or extra flow
 *   path.
 *
 * @example Flags and a named export
 * ```ts
 * import { parseArgs } from "@weir/weir/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const opts = parseArgs(["-s", "0.5", "flows.ts:nightly"]);
 * assertEquals([opts.module, opts.exportName, opts.epochIntervalMs], ["flows.ts", "nightly", 500]);
 * ```
 *
 * @example A factory export with arguments
 * ```ts
 * import { parseArgs } from "@weir/weir/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const opts = parseArgs(['flows.ts:make("orders", 3)']);
 * assertEquals([opts.exportName, opts.factoryArgs], ["make", ["orders", 3]]);
 * ```
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let help = false;
  let version = false;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (arg === "-V" || arg === "--version") {
      version = true;
      continue;
    }
    if (arg === "-q" || arg === "--quiet") {
      quiet = true;
      continue;
    }
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      const eq = arg.indexOf("=");
      const flag = eq >= 0 ? arg.slice(0, eq) : arg;
      const name = FLAG_NAMES[flag];
      if (name === undefined) throw new UsageError(`Unknown flag ${flag}`);
      let value: string | undefined;
      if (eq >= 0) {
        value = arg.slice(eq + 1);
      } else {
        value = argv[i + 1];
        if (value !== undefined && value.startsWith("-") && !NEGATIVE_NUMBER.test(value)) {
          value = undefined;
        }
        if (value !== undefined) i++;
      }
      if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
      continue;
    }
    positional.push(arg);
  }
  if (help || version) {
    return {
      help,
      version: version && !help,
      module: "",
      exportName: "flow",
      factoryArgs: undefined,
      epochIntervalMs: 10_000,
      workers: 1,
      recoveryDir: undefined,
      backupIntervalMs: undefined,
      quiet,
      metricsPort: undefined,
      metricsHost: undefined,
    };
  }
  if (positional.length === 0) {
    throw new UsageError("Missing the flow module, e.g. flow.ts or flow.ts:name");
  }
  if (positional.length > 1) {
    throw new UsageError(
      `Expected one flow module, got ${positional.length}: ${positional.join(" ")}`,
    );
  }
  const { module, exportName, factoryArgs } = parseTarget(positional[0]!);
  const workersText = values.get("workers");
  let workers = 1;
  if (workersText !== undefined) {
    workers = Number(workersText);
    if (!/^\d+$/.test(workersText) || !Number.isSafeInteger(workers) || workers < 1) {
      throw new UsageError(`--workers needs a positive integer, got "${workersText}"`);
    }
  }
  const epoch = values.get("epoch-interval");
  const backup = values.get("backup-interval");
  const portText = values.get("metrics-port");
  let metricsPort: number | undefined;
  if (portText !== undefined) {
    metricsPort = Number(portText);
    if (!/^\d+$/.test(portText) || metricsPort > 65535) {
      throw new UsageError(`--metrics-port needs a port from 0 to 65535, got "${portText}"`);
    }
  }
  const metricsHost = values.get("metrics-host");
  if (metricsHost !== undefined && metricsPort === undefined) {
    throw new UsageError("--metrics-host needs --metrics-port");
  }
  return {
    help,
    version: false,
    module,
    exportName,
    factoryArgs,
    epochIntervalMs: epoch === undefined ? 10_000 : seconds("epoch-interval", epoch),
    workers,
    recoveryDir: values.get("recovery-dir"),
    backupIntervalMs: backup === undefined ? undefined : seconds("backup-interval", backup),
    quiet,
    metricsPort,
    metricsHost,
  };
}

/** Splits `file.ts:name(args)` into its parts. */
function parseTarget(target: string): Pick<CliOptions, "module" | "exportName" | "factoryArgs"> {
  // The shortest module part followed by `:identifier` or `:identifier(...)` at the end, so
  // the colons of a URL (`https://host:8000/f.ts`) stay in the module.
  const m = /^(.*?):([A-Za-z_$][\w$]*)(\((.*)\))?$/s.exec(target);
  // `npm:pkg`, `jsr:name`: a bare specifier scheme is not a module followed by an export.
  if (m === null || m[1] === "" || /^[A-Za-z][\w+.-]*$/.test(m[1]!) && !m[1]!.includes(".")) {
    return { module: target, exportName: "flow", factoryArgs: undefined };
  }
  let factoryArgs: unknown[] | undefined;
  if (m[3] !== undefined) {
    try {
      factoryArgs = JSON.parse(`[${m[4]}]`);
    } catch (err) {
      throw new UsageError(
        `The arguments of ${m[2]}(${m[4]}) must be JSON values: ${(err as Error).message}`,
      );
    }
  }
  return { module: m[1]!, exportName: m[2]!, factoryArgs };
}

/**
 * Turns a module argument into an import specifier: URLs and specifiers with a scheme
 * (`file:`, `https:`, `jsr:`, `npm:`) as they are, paths resolved against the working
 * directory into a `file:` URL (with spaces, `#`, `?` and `%` escaped).
 */
function moduleUrl(module: string): { url: string; path: string | undefined } {
  // Two or more letters before the colon: a Windows drive letter (`C:`) is a path.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(module)) return { url: module, path: undefined };
  const slashed = module.replaceAll("\\", "/");
  const absolute = slashed.startsWith("/") || /^[A-Za-z]:\//.test(slashed);
  const path = absolute ? slashed : `${Deno.cwd().replaceAll("\\", "/")}/${slashed}`;
  const url = new URL("file:///");
  url.pathname = (path.startsWith("/") ? path : `/${path}`).replaceAll("%", "%25");
  return { url: url.href, path: module };
}

/** Describes a value's type for an error message. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? `a ${ctor.name}` : "an object";
}

/** A failure of the flow's own code while loading it (not a usage error): exit code 1. */
class LoadError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

/** Imports the module and returns the Dataflow the options name. */
async function loadFlow(opts: CliOptions): Promise<Dataflow> {
  const { url, path } = moduleUrl(opts.module);
  if (path !== undefined) {
    try {
      await Deno.stat(new URL(url));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new UsageError(`Module not found: ${opts.module}`);
      }
      // Anything else (permissions): let the import report it.
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (err) {
    throw new LoadError(`Could not import ${opts.module}: ${describe(err)}`, err);
  }
  const flows = Object.keys(mod).filter((k) => mod[k] instanceof Dataflow).sort();
  const hint = flows.length > 0
    ? `; its Dataflow exports: ${flows.join(", ")}`
    : "; it exports no Dataflow";
  const what = `Export "${opts.exportName}" of ${opts.module}`;
  if (!(opts.exportName in mod)) {
    throw new UsageError(`${opts.module} has no export "${opts.exportName}"${hint}`);
  }
  let value = mod[opts.exportName];
  if (typeof value === "function") {
    try {
      value = await value(...(opts.factoryArgs ?? []));
    } catch (err) {
      throw new LoadError(`${what} threw: ${describe(err)}`, err);
    }
    if (!(value instanceof Dataflow)) {
      throw new UsageError(`${what} returned ${typeName(value)}, not a Dataflow${hint}`);
    }
    return value;
  }
  if (opts.factoryArgs !== undefined) {
    throw new UsageError(`${what} is not a function, so it takes no arguments${hint}`);
  }
  if (!(value instanceof Dataflow)) {
    if (typeName(value) === "a Dataflow") {
      throw new UsageError(
        `${what} is a Dataflow of another copy of weir than the CLI's; ` +
          `import weir from the same place as the CLI`,
      );
    }
    throw new UsageError(`${what} is not a Dataflow (got ${typeName(value)})${hint}`);
  }
  return value;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Prints the stack of an error's cause (or the error's own, for a load failure). */
function printCause(err: unknown, out: CliOutput): void {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error && cause.stack) out.error(`Caused by: ${cause.stack}`);
  else if (cause !== undefined) out.error(`Caused by: ${describe(cause)}`);
}

/** A signal that stops a run: see {@linkcode stopOnSignals}. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** The exit code after each stop signal: 128 + the signal's number, as shells report it. */
const STOP_EXIT_CODES: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/** A run's stop request from SIGINT and SIGTERM; made by {@linkcode stopOnSignals}. */
export interface SignalStop extends Disposable {
  /** Aborted by the first SIGINT or SIGTERM: pass it to `run` as its `signal`. */
  readonly signal: AbortSignal;
  /** The signal that asked for the stop, `undefined` while none came. */
  readonly received: StopSignal | undefined;
  /** 130 after SIGINT, 143 after SIGTERM, `undefined` while no signal came. */
  readonly exitCode: number | undefined;
  /** Removes the signal listeners (a `using` declaration calls it). */
  [Symbol.dispose](): void;
}

/**
 * Turns SIGINT and SIGTERM into a graceful stop of a run, as the `weir` command does.
 *
 * The first signal aborts {@linkcode SignalStop.signal} (the run reads no more input,
 * finishes and commits its epoch, and resolves `{ status: "stopped" }`) and prints one line,
 * `weir: stopping after the current epoch (SIGINT); press Ctrl-C again to exit at once`. A
 * second signal prints `weir: exiting at once (SIGINT again) without finishing the current
 * epoch` and exits the process at once with 130 (SIGINT) or 143 (SIGTERM): the epoch in
 * progress is not committed, and since commits are atomic the store stays resumable from the
 * last committed epoch. Until the returned object is disposed, the signals no longer end the
 * process by default; dispose of it when the run ends (`using`, or call
 * `[Symbol.dispose]()`) so that no listener is left behind. On Windows only SIGINT (Ctrl-C)
 * is handled, since Deno can't listen for SIGTERM there.
 *
 * @param out Where the lines are printed (its `error`; default `console`).
 * @returns The stop request; its `exitCode` is the code to exit with after a stopped run.
 *
 * @example Running a flow that SIGINT or SIGTERM can stop
 * ```ts
 * import { Dataflow, run } from "@weir/weir";
 * import { stopOnSignals } from "@weir/weir/cli";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("signals_demo");
 * flow.input("inp", new TestingSource([1, 2])).output("out", new TestingSink(out));
 * using stop = stopOnSignals();
 * const summary = await run(flow, { signal: stop.signal });
 * // No signal came: the run ended at EOF. After a stop, exit with stop.exitCode.
 * assertEquals([summary.status, stop.exitCode], ["eof", undefined]);
 * assertEquals(out, [1, 2]);
 * ```
 */
export function stopOnSignals(out: CliOutput = console): SignalStop {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const signals: StopSignal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((sig) => {
    const listener = () => {
      if (received !== undefined) {
        out.error(`weir: exiting at once (${sig} again) without finishing the current epoch`);
        Deno.exit(STOP_EXIT_CODES[sig]);
      }
      received = sig;
      const again = sig === "SIGINT" ? "press Ctrl-C again" : "send SIGTERM or SIGINT again";
      out.error(`weir: stopping after the current epoch (${sig}); ${again} to exit at once`);
      controller.abort();
    };
    Deno.addSignalListener(sig, listener);
    return [sig, listener] as const;
  });
  let disposed = false;
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received === undefined ? undefined : STOP_EXIT_CODES[received];
    },
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      for (const [sig, listener] of listeners) Deno.removeSignalListener(sig, listener);
    },
  };
}

/**
 * Runs the command line: parses `argv`, imports the flow and runs it with `run(flow, {
 * epochInterval, recovery, signal })` (recovery with the filesystem backend when `-r` is
 * given; the signal from {@linkcode stopOnSignals}, so SIGINT and SIGTERM stop the run
 * gracefully while it runs).
 *
 * Prints `weir: <message>` on errors and returns the exit code:
 * - 0: `--help`, `--version` (which prints `weir <version>`), or the flow ran to the end of
 *   its inputs;
 * - 1: the flow failed (a `DataflowError`: its message, then the stack of its cause), its
 *   module threw while loading, or the run was aborted;
 * - 2: a usage error (see {@linkcode UsageError}), including `-w` above 1 (not available
 *   yet) and `-b` without `-r`;
 * - 130 / 143: SIGINT / SIGTERM stopped the run (after it finished and, with `-r`, committed
 *   its current epoch). A second signal exits at once with the same codes. A run that reached
 *   the end of its inputs while stopping returns 0.
 *
 * `weir recovery init <dir>` and `weir recovery inspect <dir>` manage recovery stores.
 *
 * @param argv The arguments after the program, e.g. `Deno.args`.
 * @param out Where to print (default `console`).
 * @returns The exit code.
 *
 * @example A usage error
 * ```ts
 * import { main } from "@weir/weir/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const errors: string[] = [];
 * const code = await main(["-w", "0", "flow.ts"], { log: () => {}, error: (t) => errors.push(t) });
 * assertEquals(code, 2);
 * assertEquals(errors, ['weir: --workers needs a positive integer, got "0"\nRun with --help for usage']);
 * ```
 *
 * @example The version
 * ```ts
 * import { VERSION } from "@weir/weir";
 * import { main } from "@weir/weir/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const lines: string[] = [];
 * const code = await main(["--version"], { log: (t) => lines.push(t), error: () => {} });
 * assertEquals([code, lines], [0, [`weir ${VERSION}`]]);
 * ```
 */
export async function main(argv: readonly string[], out: CliOutput = console): Promise<number> {
  if (argv[0] === "recovery") return await recoveryCommand(argv.slice(1), out);
  if (argv[0] === "visualize") return await visualizeCommand(argv.slice(1), out);
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
    if (opts.help) {
      out.log(USAGE);
      return 0;
    }
    if (opts.version) {
      out.log(`weir ${VERSION}`);
      return 0;
    }
    if (opts.backupIntervalMs !== undefined && opts.recoveryDir === undefined) {
      throw new UsageError("--backup-interval needs --recovery-dir");
    }
  } catch (err) {
    if (err instanceof UsageError) {
      out.error(`weir: ${err.message}\nRun with --help for usage`);
      return 2;
    }
    throw err;
  }
  let flow: Dataflow;
  try {
    flow = await loadFlow(opts);
  } catch (err) {
    out.error(`weir: ${describe(err)}`);
    if (err instanceof UsageError) return 2;
    printCause(err, out);
    return 1;
  }
  // The signals stop the run only while it runs; the listeners go when main returns.
  using stop = stopOnSignals(out);
  const tty = out === console && Deno.stderr.isTerminal();
  // Progress and tracing are not supported on several workers yet: the CLI prints no progress
  // line and records no spans there (--metrics-port is refused by run).
  const parallel = opts.workers > 1;
  const tracer = parallel ? undefined : await otelTracer();
  const progress = opts.quiet || parallel ? undefined : progressPrinter(out, tty);
  try {
    const summary = await run(flow, {
      epochInterval: opts.epochIntervalMs,
      ...(opts.workers > 1
        ? {
          workers: opts.workers,
          module: moduleUrl(opts.module).url,
          export: opts.exportName,
          args: opts.factoryArgs,
        }
        : {}),
      recovery: opts.recoveryDir === undefined ? undefined : {
        backend: backendFor(opts.recoveryDir),
        backupInterval: opts.backupIntervalMs ?? 0,
      },
      signal: stop.signal,
      onProgress: progress,
      progressInterval: tty ? 250 : 1000,
      tracer,
      metrics: opts.metricsPort === undefined ? undefined : {
        port: opts.metricsPort,
        hostname: opts.metricsHost,
        onListen: ({ hostname, port }) => {
          const host = hostname.includes(":") ? `[${hostname}]` : hostname;
          out.error(
            `weir: metrics at http://${host}:${port}/metrics, dashboard at http://${host}:${port}/`,
          );
        },
      },
    });
    if (summary.status === "stopped") return stop.exitCode!;
    if (summary.status === "aborted") {
      out.error(`weir: The run of "${flow.flowId}" was aborted`);
      return 1;
    }
    return 0;
  } catch (err) {
    out.error(`weir: ${describe(err)}`);
    if (isDataflowError(err) || err instanceof RecoveryError) printCause(err, out);
    return 1;
  }
}

/**
 * The CLI's progress report. On a terminal, one line on stderr redrawn at every snapshot and
 * ended with a newline when the run ends. Otherwise plain lines: one at an epoch's end at most
 * every second, from one second after the start, and a last one when the run ends if any was
 * printed (a run shorter than a second prints none). "resumed from epoch N" is its own line.
 */
function progressPrinter(out: CliOutput, tty: boolean): (p: RunProgress) => void {
  const encoder = new TextEncoder();
  let printedAt = Number.POSITIVE_INFINITY;
  let printed = false;
  return (p) => {
    if (p.event === "started") printedAt = p.at;
    if (p.event === "started" && p.resumedFrom !== undefined && p.resumedFrom > 0) {
      if (tty) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
      out.error(`weir: resumed from epoch ${p.resumedFrom}`);
    }
    const line = `weir: ${formatProgress(p)}`;
    if (tty) {
      const columns = consoleColumns();
      const shown = line.length > columns - 1 ? line.slice(0, columns - 2) + "…" : line;
      const end = p.event === "finished" ? "\n" : "";
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${shown}${end}`));
      return;
    }
    const due = p.event === "epoch" && p.at - printedAt >= 1000;
    if (due || (p.event === "finished" && printed)) {
      printedAt = p.at;
      printed = true;
      out.error(line);
    }
  };
}

/**
 * With `OTEL_DENO=true` (Deno's built-in OpenTelemetry export), a tracer from
 * `@opentelemetry/api`, whose spans Deno exports; otherwise `undefined` and the package is
 * not loaded. Reading the variable needs no prompt: without env permission, no tracing.
 */
async function otelTracer(): Promise<Tracer | undefined> {
  const env = Deno.permissions.querySync({ name: "env", variable: "OTEL_DENO" });
  if (env.state !== "granted" || Deno.env.get("OTEL_DENO") !== "true") return undefined;
  const { trace } = await import("@opentelemetry/api");
  return trace.getTracer("weir", VERSION);
}

/** The terminal's width; 120 when unknown (or implausibly small, as on a fresh pty). */
function consoleColumns(): number {
  try {
    const { columns } = Deno.consoleSize();
    return columns >= 20 ? columns : 120;
  } catch {
    return 120;
  }
}

/**
 * The backend a store argument names: `kv:<path>` a Deno KV database (the CLI then needs
 * `--unstable-kv`), anything else a directory.
 */
function backendFor(store: string): RecoveryBackend {
  return store.startsWith("kv:") ? kvBackend(store.slice(3)) : fsBackend(store);
}

const FORMATS: readonly VisualizeFormat[] = ["mermaid", "dot", "json"];

/** `weir visualize [--format F] <flow.ts>[:<name>]`: prints the graph, runs nothing. */
async function visualizeCommand(argv: readonly string[], out: CliOutput): Promise<number> {
  let format: VisualizeFormat = "mermaid";
  const rest: string[] = [];
  let flow: Dataflow;
  try {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === "-f" || arg === "--format" || arg.startsWith("--format=")) {
        const value = arg.startsWith("--format=") ? arg.slice(9) : argv[++i];
        if (!FORMATS.includes(value as VisualizeFormat)) {
          throw new UsageError(
            `--format needs one of ${FORMATS.join(", ")}, got ${
              value === undefined ? "nothing" : `"${value}"`
            }`,
          );
        }
        format = value as VisualizeFormat;
      } else if (arg.startsWith("-") && arg !== "-") {
        throw new UsageError(`Unknown flag ${arg} for visualize`);
      } else {
        rest.push(arg);
      }
    }
    if (rest.length !== 1) {
      throw new UsageError(
        `visualize needs one flow module, e.g. weir visualize flow.ts, got ${rest.length}`,
      );
    }
    flow = await loadFlow({ ...parseArgs([rest[0]!]) });
  } catch (err) {
    out.error(`weir: ${describe(err)}`);
    if (err instanceof UsageError) {
      out.error("Run with --help for usage");
      return 2;
    }
    printCause(err, out);
    return 1;
  }
  out.log(visualize(flow, { format }));
  return 0;
}

/** `weir recovery init [--adopt] <dir>` and `weir recovery inspect <dir>`. */
async function recoveryCommand(argv: readonly string[], out: CliOutput): Promise<number> {
  const adopt = argv[0] === "init" && argv[1] === "--adopt";
  const [verb, dir, ...rest] = adopt ? [argv[0], ...argv.slice(2)] : argv;
  if ((verb !== "init" && verb !== "inspect") || dir === undefined || rest.length > 0) {
    out.error(
      "weir: Usage: weir recovery init [--adopt] <dir> | weir recovery inspect <dir>\n" +
        "Run with --help for usage",
    );
    return 2;
  }
  try {
    if (verb === "init") {
      await initStore(backendFor(dir), Date.now(), { adopt });
      out.log(
        adopt
          ? `Initialised a recovery store in ${dir}, adopting the segments it holds`
          : `Initialised an empty recovery store in ${dir}`,
      );
    } else {
      out.log(formatReport(dir, await inspectStore(backendFor(dir))));
    }
    return 0;
  } catch (err) {
    out.error(`weir: ${describe(err)}`);
    printCause(err, out);
    return 1;
  }
}

/**
 * The text `weir recovery inspect` prints for a store.
 *
 * @example
 * ```ts
 * import { formatReport } from "@weir/weir/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const text = formatReport("store", {
 *   flowId: "orders",
 *   lastEpoch: 7,
 *   segments: [{ name: "base-0000000000000007", type: "base", epoch: 7, bytes: 2048, committedAt: 0, entries: 3 }],
 *   steps: [{ kind: "state", stepId: "orders.total", keys: 2, bytes: 40 }],
 * });
 * assertEquals(text.split("\n")[0], "Recovery store store: flow orders, last committed epoch 7");
 * ```
 */
export function formatReport(dir: string, r: StoreReport): string {
  const lines = [
    `Recovery store ${dir}: flow ${r.flowId ?? "(none yet)"}, last committed epoch ${r.lastEpoch}`,
    "",
    "Segments:",
  ];
  if (r.segments.length === 0) lines.push("  (none)");
  for (const s of r.segments) {
    const at = Number.isFinite(s.committedAt) ? new Date(s.committedAt).toISOString() : "?";
    lines.push(
      `  ${s.name}  ${s.type.padEnd(5)}  epoch ${s.epoch}  ${s.entries} entries  ` +
        `${formatBytes(s.bytes)}  committed ${at}`,
    );
  }
  lines.push("", "Steps:");
  if (r.steps.length === 0) lines.push("  (none)");
  for (const s of r.steps) {
    const what = s.kind === "state" ? "keys" : "partitions";
    lines.push(`  ${s.stepId}  ${s.kind}  ${s.keys} ${what}  ${formatBytes(s.bytes)}`);
  }
  return lines.join("\n");
}

function formatBytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 * 1024
    ? `${(n / 1024).toFixed(1)} KiB`
    : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// Not a top-level await: a flow module that imports this module (for stopOnSignals, say) would
// wait for this module's evaluation, which would wait for the flow's import: a deadlock.
if (import.meta.main) main(Deno.args).then((code) => Deno.exit(code));
