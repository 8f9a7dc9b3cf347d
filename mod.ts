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

// Core primitives: a flow and its streams, running it, the end of a source's input, the
// keyed-state primitive every stateful operator composes, the operator spec every weir
// operator carries, and the errors a run throws
export {
  type BranchOut,
  Dataflow,
  type KeyedStream,
  type Scope,
  Stream,
} from "./src/dataflow/dataflow.ts";
export { DEFAULT_EPOCH_INTERVAL_MS, run, type RunOptions } from "./src/runtime/run.ts";
export type { RunSummary } from "./src/runtime/scheduler.ts";
export { EOF } from "./src/io/inputs.ts";
export {
  DISCARD,
  DISCARDED,
  type LogicBuilder,
  type LogicContext,
  type LogicResult,
  NOTHING,
  RETAIN,
  statefulBatch,
  type StatefulBatchLogic,
  type StatefulOptions,
} from "./src/operators/stateful_batch.ts";
export {
  type AnyOperator,
  type ChainStepSpec,
  type Combiner,
  type Downstream,
  NO_PARTIAL,
  type NodeStepSpec,
  type RuntimeNode,
  type ScopeStepSpec,
  STEP_SPEC,
  type StepContext,
  type StepSpec,
  type WeirOperator,
  weirOperator,
} from "./src/dataflow/op.ts";
export {
  AbortExecution,
  DataflowError,
  type DataflowErrorDetails,
  isDataflowError,
} from "./src/errors.ts";

// Definition: the records a flow is made of, and drawing it
export type {
  BranchStep,
  ChainStep,
  InputStep,
  MergeStep,
  NodeStep,
  OutputStep,
  RxStep,
  ScopeStep,
  StepBase,
  StepRecord,
} from "./src/dataflow/graph.ts";
export {
  type FlowGraph,
  flowGraph,
  type FlowGraphStep,
  type FlowGraphStream,
  visualize,
  type VisualizeFormat,
  type VisualizeOptions,
} from "./src/dataflow/visualize.ts";

// Running: progress, metrics, tracing and the clock
export { type Clock, WallClock } from "./src/clock.ts";
export type {
  InputProgress,
  MetricsServerOptions,
  OutputProgress,
  ProgressEvent,
  RunProgress,
  StepProgress,
  Tracer,
  TraceSpan,
} from "./src/observe/monitor.ts";

// Recovery (the backends: "@weir/weir/recovery/fs", "@weir/weir/recovery/kv" and, in a
// browser, "@weir/weir/recovery/idb")
export {
  initStore,
  type InitStoreOptions,
  inspectStore,
  type StoreReport,
} from "./src/recovery/admin.ts";
export { type RecoveryConfig } from "./src/recovery/config.ts";
export { RecoveryError } from "./src/recovery/errors.ts";
export { type SegmentInfo } from "./src/recovery/manifest.ts";
export type { RecoveryBackend } from "./src/recovery/backend.ts";
export { type ClassSerde, CodecError, decodeValue, encodeValue } from "./src/recovery/codec.ts";
export { CorruptSegmentError, type SnapshotKind } from "./src/recovery/segment.ts";

// Connector contracts
export {
  type BatchResult,
  type DynamicSource,
  type FixedPartitionedSource,
  type PartitionContext,
  type Source,
  type SourceProgress,
  type StatefulSourcePartition,
  type StatelessSourcePartition,
} from "./src/io/inputs.ts";
export {
  PollRetry,
  type SimplePollingOptions,
  SimplePollingSource,
} from "./src/io/simple_polling_source.ts";
export { batch, batchAsync, type BatchAsyncOptions, batchGetter, NO_ITEM } from "./src/io/batch.ts";
export {
  adler32,
  type DynamicSink,
  type EpochCommitter,
  type FixedPartitionedSink,
  isEpochCommitter,
  type Sink,
  type StatefulSinkPartition,
  type StatelessSinkPartition,
} from "./src/io/outputs.ts";

// Keyed state: compositions of statefulBatch
export { stateful, type StatefulLogic } from "./src/operators/stateful.ts";
export { statefulMap, type StatefulMapInit } from "./src/operators/stateful_map.ts";
export { statefulFlatMap } from "./src/operators/stateful_flat_map.ts";
export { collect, type CollectOptions, type CollectState } from "./src/operators/collect.ts";
export { countFinal } from "./src/operators/count_final.ts";
export { foldFinal, type FoldFinalOptions } from "./src/operators/fold_final.ts";
export { reduceFinal } from "./src/operators/reduce_final.ts";
export { maxFinal } from "./src/operators/max_final.ts";
export { minFinal } from "./src/operators/min_final.ts";
export {
  join,
  type JoinedValues,
  type JoinEmitMode,
  type JoinInsertMode,
  type JoinOptions,
  joinTuples,
} from "./src/operators/join.ts";

// Windowing
export {
  type ClockLogic,
  EventClock,
  type EventClockOptions,
  type EventClockState,
  SystemClock,
  type WindowClock,
} from "./src/windowing/clocks.ts";
export {
  LATE_SESSION_ID,
  type SessionIds,
  type SessionState,
  SessionWindower,
  type SessionWindowerOptions,
  type SlidingState,
  SlidingWindower,
  TumblingWindower,
  type Windower,
  type WindowerLogic,
  type WindowMetadata,
} from "./src/windowing/windowers.ts";
export {
  type LatePolicy,
  type PipeableWindowOptions,
  window,
  type WindowBuilder,
  type WindowLogic,
  type WindowOptions,
  type WindowOut,
  windowStreams,
} from "./src/windowing/window.ts";
export {
  type Collected,
  type CollectInto,
  collectWindow,
  type CollectWindowOptions,
  countWindow,
  type CountWindowOptions,
  type ExtremeWindowOptions,
  foldWindow,
  type FoldWindowOptions,
  maxWindow,
  minWindow,
  reduceWindow,
  type ReduceWindowOptions,
  type WindowOperator,
  type WindowUpstream,
} from "./src/windowing/window_operators.ts";
export { joinWindow, type JoinWindowOptions } from "./src/windowing/join_window.ts";
export { type WindowBounds, type WindowResults, withBounds } from "./src/windowing/with_bounds.ts";

// Stateless operators
export { enrichCached, type EnrichCachedOptions, TTLCache } from "./src/operators/enrich_cached.ts";
export { filterMap } from "./src/operators/filter_map.ts";
export { filterMapValue } from "./src/operators/filter_map_value.ts";
export { filterValue } from "./src/operators/filter_value.ts";
export { flatMap } from "./src/operators/flat_map.ts";
export { flatMapBatch } from "./src/operators/flat_map_batch.ts";
export { flatMapValue } from "./src/operators/flat_map_value.ts";
export { flatten } from "./src/operators/flatten.ts";
export {
  type DebugInspector,
  inspect,
  inspectDebug,
  type Inspector,
} from "./src/operators/inspect.ts";
export { keyOn } from "./src/operators/key_on.ts";
export { keyRm } from "./src/operators/key_rm.ts";
export { mapAsync, type MapAsyncOptions } from "./src/operators/map_async.ts";
export { mapValue } from "./src/operators/map_value.ts";
export { raises } from "./src/operators/raises.ts";
export { redistribute } from "./src/operators/redistribute.ts";
export { step } from "./src/operators/step.ts";

// Version
export { VERSION } from "./src/version.ts";
