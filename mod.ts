/**
 * weir: stream processing for Deno and the browser, on RxJS.
 *
 * Define a {@linkcode Dataflow} of named steps — inputs, RxJS operator chains, weir's keyed
 * operators, outputs — and run it with {@linkcode run} (or `runMain` from
 * `@weir/weir/testing`). The scheduler polls sources cooperatively, pushes batches through
 * the chains and ends an epoch every `epochInterval`; with `recovery` it snapshots each epoch
 * to a store and a later run resumes from the last committed one.
 *
 * The exports are grouped: the core primitives ({@linkcode Dataflow}, {@linkcode Stream},
 * {@linkcode run}, {@linkcode EOF}, {@linkcode statefulBatch}, {@linkcode weirOperator} and the
 * errors), then the definition's records, running, recovery, connector contracts, keyed state,
 * windowing and stateless operators. Connectors, the recovery backends, serde, the testing kit
 * and the CLI are subpath exports: `@weir/weir/connectors/files`, `@weir/weir/recovery/fs`,
 * `@weir/weir/serde`, `@weir/weir/testing`, `@weir/weir/cli` and others (see deno.json).
 *
 * @example Word lengths
 * ```ts
 * import { Dataflow, flatMap, keyOn, mapValue } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("lengths");
 * flow.input("lines", new TestingSource(["to be", "or not"]))
 *   .pipe(
 *     flatMap("words", (line) => line.split(" ")),
 *     keyOn("by_word", (w) => w),
 *     mapValue("length", (w) => w.length),
 *   )
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["to", 2], ["be", 2], ["or", 2], ["not", 3]]);
 * ```
 *
 * @module
 */

// The window operators' fused paths for event-time tumbling and session windows (the browser
// bundle's entry, src/browser.ts, leaves them out: same results, smaller, slower).
import "./src/windowing/fused_drivers.ts";

// Everything but drawing a flow (src/api.ts: the core primitives, operators, windowing, joins,
// definition, running, recovery, connectors' contracts), shared with the browser bundle's entry
export * from "./src/api.ts";

// Drawing a flow (left out of the browser bundle)
export {
  type FlowGraph,
  flowGraph,
  type FlowGraphStep,
  type FlowGraphStream,
  visualize,
  type VisualizeFormat,
  type VisualizeOptions,
} from "./src/dataflow/visualize.ts";
