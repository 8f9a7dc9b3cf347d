/**
 * The API of `@weir/weir` that a browser page also gets (`mod.ts` re-exports all of it and adds
 * `visualize`/`flowGraph` and the fused window drivers; `src/browser.ts`, the bundle's entry,
 * re-exports it with the IndexedDB backend), grouped as the README presents it. Internal: import
 * `@weir/weir`.
 *
 * @module
 */
// Core primitives: a flow and its streams, running it, the end of a source's input, the
// keyed-state primitive every stateful operator composes, the operator spec every weir
// operator carries, and the errors a run throws
export {
  type BranchOut,
  Dataflow,
  type KeyedStream,
  type Scope,
  Stream,
} from "./dataflow/dataflow.ts";
export { DEFAULT_EPOCH_INTERVAL_MS, run, type RunOptions } from "./runtime/run.ts";
export type { RunSummary } from "./runtime/scheduler.ts";
export { EOF } from "./io/inputs.ts";
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
} from "./operators/stateful_batch.ts";
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
} from "./dataflow/op.ts";
export {
  AbortExecution,
  DataflowError,
  type DataflowErrorDetails,
  isDataflowError,
} from "./errors.ts";

// Definition: the records a flow is made of (drawing it, visualize/flowGraph, is in mod.ts)
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
} from "./dataflow/graph.ts";

// Running: progress, metrics, tracing and the clock
export { type Clock, WallClock } from "./clock.ts";
export type {
  InputProgress,
  MetricsServerOptions,
  OutputProgress,
  ProgressEvent,
  RunProgress,
  StepProgress,
  Tracer,
  TraceSpan,
} from "./observe/monitor.ts";

// Recovery (the backends: "@weir/weir/recovery/fs", "@weir/weir/recovery/kv" and, in a
// browser, "@weir/weir/recovery/idb")
export {
  initStore,
  type InitStoreOptions,
  inspectStore,
  type StoreReport,
} from "./recovery/admin.ts";
export { type RecoveryConfig } from "./recovery/config.ts";
export { RecoveryError } from "./recovery/errors.ts";
export { type SegmentInfo } from "./recovery/manifest.ts";
export type { RecoveryBackend } from "./recovery/backend.ts";
export { type ClassSerde, CodecError, decodeValue, encodeValue } from "./recovery/codec.ts";
export { CorruptSegmentError, type SnapshotKind } from "./recovery/segment.ts";

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
} from "./io/inputs.ts";
export {
  PollRetry,
  type SimplePollingOptions,
  SimplePollingSource,
} from "./io/simple_polling_source.ts";
export { batch, batchAsync, type BatchAsyncOptions, batchGetter, NO_ITEM } from "./io/batch.ts";
export {
  adler32,
  type DynamicSink,
  type EpochCommitter,
  type FixedPartitionedSink,
  isEpochCommitter,
  type Sink,
  type StatefulSinkPartition,
  type StatelessSinkPartition,
} from "./io/outputs.ts";

// Keyed state: compositions of statefulBatch
export { stateful, type StatefulLogic } from "./operators/stateful.ts";
export { statefulMap, type StatefulMapInit } from "./operators/stateful_map.ts";
export { statefulFlatMap } from "./operators/stateful_flat_map.ts";
export { collect, type CollectOptions, type CollectState } from "./operators/collect.ts";
export { countFinal } from "./operators/count_final.ts";
export { foldFinal, type FoldFinalOptions } from "./operators/fold_final.ts";
export { reduceFinal } from "./operators/reduce_final.ts";
export { maxFinal } from "./operators/max_final.ts";
export { minFinal } from "./operators/min_final.ts";
export {
  join,
  type JoinedValues,
  type JoinEmitMode,
  type JoinInsertMode,
  type JoinOptions,
  joinTuples,
} from "./operators/join.ts";

// Windowing
export {
  type ClockLogic,
  EventClock,
  type EventClockOptions,
  type EventClockState,
  SystemClock,
  type WindowClock,
} from "./windowing/clocks.ts";
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
} from "./windowing/windowers.ts";
export {
  type LatePolicy,
  type PipeableWindowOptions,
  window,
  type WindowBuilder,
  type WindowLogic,
  type WindowOptions,
  type WindowOut,
  windowStreams,
} from "./windowing/window.ts";
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
} from "./windowing/window_operators.ts";
export { joinWindow, type JoinWindowOptions } from "./windowing/join_window.ts";
export { type WindowBounds, type WindowResults, withBounds } from "./windowing/with_bounds.ts";

// Stateless operators
export { enrichCached, type EnrichCachedOptions, TTLCache } from "./operators/enrich_cached.ts";
export { filterMap } from "./operators/filter_map.ts";
export { filterMapValue } from "./operators/filter_map_value.ts";
export { filterValue } from "./operators/filter_value.ts";
export { flatMap } from "./operators/flat_map.ts";
export { flatMapBatch } from "./operators/flat_map_batch.ts";
export { flatMapValue } from "./operators/flat_map_value.ts";
export { flatten } from "./operators/flatten.ts";
export { type DebugInspector, inspect, inspectDebug, type Inspector } from "./operators/inspect.ts";
export { keyOn } from "./operators/key_on.ts";
export { keyRm } from "./operators/key_rm.ts";
export { mapAsync, type MapAsyncOptions } from "./operators/map_async.ts";
export { mapValue } from "./operators/map_value.ts";
export { raises } from "./operators/raises.ts";
export { redistribute } from "./operators/redistribute.ts";
export { step } from "./operators/step.ts";

// Version
export { VERSION } from "./version.ts";
