/**
 * `weir visualize`: prints a flow's graph without running it. Deno only.
 *
 * @module
 */
import type { Dataflow } from "../dataflow/dataflow.ts";
import { visualize, type VisualizeFormat } from "../dataflow/visualize.ts";
import { type CliOutput, parseArgs, UsageError } from "./args.ts";
import { describe, loadFlow, printCause } from "./load.ts";

const FORMATS: readonly VisualizeFormat[] = ["mermaid", "dot", "json"];

/** `weir visualize [--format F] <flow.ts>[:<name>]`: prints the graph, runs nothing. */
export async function visualizeCommand(argv: readonly string[], out: CliOutput): Promise<number> {
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
