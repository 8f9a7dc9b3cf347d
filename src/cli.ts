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
import type { CliOutput } from "./cli/args.ts";
import { recoveryCommand } from "./cli/recovery_command.ts";
import { runCommand } from "./cli/run_command.ts";
import { visualizeCommand } from "./cli/visualize_command.ts";

export { type CliOptions, type CliOutput, parseArgs, USAGE, UsageError } from "./cli/args.ts";
export { type SignalStop, stopOnSignals, type StopSignal } from "./cli/signals.ts";
export { formatReport } from "./cli/recovery_command.ts";

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
  return await runCommand(argv, out);
}

// Not a top-level await: a flow module that imports this module (for stopOnSignals, say) would
// wait for this module's evaluation, which would wait for the flow's import: a deadlock.
if (import.meta.main) main(Deno.args).then((code) => Deno.exit(code));
