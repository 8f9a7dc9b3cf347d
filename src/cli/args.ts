/**
 * The command line's words: the usage text, {@linkcode parseArgs} and its options, and
 * {@linkcode UsageError}. Imports nothing, runs nothing.
 *
 * @module
 */

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

/** Where `main` prints; `console` by default. */
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
