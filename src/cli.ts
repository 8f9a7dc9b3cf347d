/**
 * weir's command line (Deno only: it reads `Deno.args`, imports files and exits).
 *
 * ```sh
 * deno run -A jsr:@weir/weir/cli [flags] path/to/flow.ts[:name]
 * deno task run examples/basic.ts          # in this repository
 * ```
 *
 * @module
 */
import { Dataflow } from "./dataflow/dataflow.ts";
import { isDataflowError } from "./errors.ts";
import { run } from "./runtime/run.ts";

/** Usage text printed by `--help`. */
export const USAGE: string = `Usage: weir [flags] <flow.ts>[:<name>]

Runs the Dataflow exported as <name> (default: flow) by the module <flow.ts>.
<name> may be a function returning a Dataflow, called with JSON arguments:
  weir flows.ts:makeFlow("orders", 3)

Flags:
  -s, --epoch-interval SECONDS   epoch length (default 10)
  -w, --workers N                workers (default 1)
  -r, --recovery-dir DIR         recovery store directory
  -b, --backup-interval SECONDS  how long old epochs are kept (with -r)
  -h, --help                     print this help
`;

/** A command-line mistake: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What the command line asked for. */
export interface CliOptions {
  /** `--help` was given. */
  readonly help: boolean;
  /** The module path or URL. */
  readonly module: string;
  /** The export to run (default `flow`). */
  readonly exportName: string;
  /** Arguments for a factory export, parsed as JSON, or `undefined` for a plain export. */
  readonly factoryArgs: unknown[] | undefined;
  /** Epoch length in milliseconds. */
  readonly epochIntervalMs: number;
  /** Worker count. */
  readonly workers: number;
  /** Recovery directory, if given. */
  readonly recoveryDir: string | undefined;
  /** Backup interval in milliseconds, if given. */
  readonly backupIntervalMs: number | undefined;
}

const FLAG_NAMES: Record<string, string> = {
  "-s": "epoch-interval",
  "--epoch-interval": "epoch-interval",
  "-w": "workers",
  "--workers": "workers",
  "-r": "recovery-dir",
  "--recovery-dir": "recovery-dir",
  "-b": "backup-interval",
  "--backup-interval": "backup-interval",
};

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${flag} needs a number of seconds >= 0, got "${value}"`);
  }
  return n * 1000;
}

/**
 * Parses the command line (without running anything).
 *
 * @throws {UsageError} On an unknown flag, a missing or bad value, or a missing flow path.
 *
 * @example
 * ```ts
 * import { parseArgs } from "@weir/weir/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const opts = parseArgs(["-s", "0.5", "examples/basic.ts:flow"]);
 * assertEquals([opts.module, opts.exportName, opts.epochIntervalMs], ["examples/basic.ts", "flow", 500]);
 * ```
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") {
      help = true;
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
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        value = argv[i + 1];
        if (value === undefined || (value.startsWith("-") && value !== "-")) {
          throw new UsageError(`--${name} needs a value`);
        }
        i++;
      }
      values.set(name, value);
      continue;
    }
    positional.push(arg);
  }
  if (help) {
    return {
      help,
      module: "",
      exportName: "flow",
      factoryArgs: undefined,
      epochIntervalMs: 10_000,
      workers: 1,
      recoveryDir: undefined,
      backupIntervalMs: undefined,
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
    if (!Number.isInteger(workers) || workers < 1) {
      throw new UsageError(`--workers needs a positive integer, got "${workersText}"`);
    }
  }
  const epoch = values.get("epoch-interval");
  const backup = values.get("backup-interval");
  return {
    help,
    module,
    exportName,
    factoryArgs,
    epochIntervalMs: epoch === undefined ? 10_000 : seconds("epoch-interval", epoch),
    workers,
    recoveryDir: values.get("recovery-dir"),
    backupIntervalMs: backup === undefined ? undefined : seconds("backup-interval", backup),
  };
}

/** Splits `file.ts:name(args)` into its parts. */
function parseTarget(target: string): Pick<CliOptions, "module" | "exportName" | "factoryArgs"> {
  // The export spec is after the last ":" that is not part of a URL scheme or drive letter.
  const m = /^(.*?):([A-Za-z_$][\w$]*)(\((.*)\))?$/s.exec(target);
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

/** Resolves a module argument (path or URL) against the working directory. */
function moduleUrl(module: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(module) || module.startsWith("file:")) return module;
  const cwd = Deno.cwd().replaceAll("\\", "/");
  const base = new URL(`file://${cwd.startsWith("/") ? "" : "/"}${cwd}/`);
  return new URL(module.replaceAll("\\", "/"), base).href;
}

/** Imports the module and returns the Dataflow the options name. */
export async function loadFlow(opts: CliOptions): Promise<Dataflow> {
  const url = moduleUrl(opts.module);
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (err) {
    throw new UsageError(`Could not import ${opts.module}: ${(err as Error).message}`);
  }
  if (!(opts.exportName in mod)) {
    const flows = Object.entries(mod).filter(([, v]) => v instanceof Dataflow).map(([k]) => k);
    throw new UsageError(
      `${opts.module} has no export "${opts.exportName}"` +
        (flows.length > 0 ? `; its Dataflow exports: ${flows.join(", ")}` : ""),
    );
  }
  let value = mod[opts.exportName];
  if (typeof value === "function") value = await value(...(opts.factoryArgs ?? []));
  else if (opts.factoryArgs !== undefined) {
    throw new UsageError(`Export "${opts.exportName}" of ${opts.module} is not a function`);
  }
  if (!(value instanceof Dataflow)) {
    throw new UsageError(
      `Export "${opts.exportName}" of ${opts.module} is not a Dataflow (got ${typeof value}); ` +
        `is it built with the same copy of weir as the CLI?`,
    );
  }
  return value;
}

/**
 * Runs the command line; returns the process exit code (0 success, 1 the flow failed,
 * 2 a usage error).
 */
export async function main(argv: readonly string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
    if (opts.help) {
      console.log(USAGE);
      return 0;
    }
    if (opts.workers > 1) {
      throw new UsageError(
        `--workers ${opts.workers}: several workers are not available yet in this version`,
      );
    }
    if (opts.recoveryDir !== undefined) {
      throw new UsageError("--recovery-dir: recovery is not available yet in this version");
    }
    if (opts.backupIntervalMs !== undefined) {
      throw new UsageError("--backup-interval: recovery is not available yet in this version");
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`weir: ${err.message}\nRun with --help for usage.`);
      return 2;
    }
    throw err;
  }
  let flow: Dataflow;
  try {
    flow = await loadFlow(opts);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`weir: ${err.message}`);
      return 2;
    }
    throw err;
  }
  try {
    const summary = await run(flow, { epochInterval: opts.epochIntervalMs });
    if (summary.status === "aborted") console.error("weir: the run was aborted");
    return 0;
  } catch (err) {
    console.error(`weir: ${err instanceof Error ? err.message : String(err)}`);
    if (isDataflowError(err) && err.cause instanceof Error && err.cause.stack) {
      console.error(`Caused by: ${err.cause.stack}`);
    }
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
