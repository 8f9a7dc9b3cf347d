/**
 * The default command, `weir [flags] <flow.ts>[:<name>]`: parses the flags, imports the flow
 * and runs it, printing progress. Deno only.
 *
 * @module
 */
import type { Dataflow } from "../dataflow/dataflow.ts";
import { isDataflowError } from "../errors.ts";
import { run } from "../runtime/run.ts";
import { RecoveryError } from "../recovery/errors.ts";
import { VERSION } from "../version.ts";
import type { RunProgress, Tracer } from "../observe/monitor.ts";
import { formatProgress } from "../observe/progress_line.ts";
import { type CliOptions, type CliOutput, parseArgs, USAGE, UsageError } from "./args.ts";
import { describe, loadFlow, moduleUrl, printCause } from "./load.ts";
import { backendFor } from "./recovery_command.ts";
import { stopOnSignals } from "./signals.ts";

/** Runs the flow `argv` names, as `main` (`src/cli.ts`) describes; returns the exit code. */
export async function runCommand(argv: readonly string[], out: CliOutput): Promise<number> {
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
