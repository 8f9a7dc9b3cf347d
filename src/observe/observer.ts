/**
 * What the scheduler tells an observer of a run (progress, metrics, tracing): a handful of
 * calls at the run's start, each epoch's end and each commit. The scheduler makes them only
 * when `run` was given something to report to; an unobserved run pays nothing.
 *
 * Per-item counts are not pushed: the observer reads the counters the runtime keeps (items
 * per input, per batch; items per channel, once `Channel.countItems` was called; keys per
 * stateful step; busy time per input and node, per activation) when it wants them.
 *
 * @module
 */
import type { SourceProgress } from "../io/inputs.ts";

/**
 * What an observer reads of a built worker (the runtime's `BuiltWorker` is one): its inputs'
 * counters and positions, its streams' item counts, its outputs, its nodes and their key counts.
 * Declared here, not imported from the runtime, so that `observe/` sits below `runtime/`.
 */
export interface ObservedWorker {
  /** The inputs, each with its step, its items read so far and its position. */
  readonly inputs: readonly {
    readonly step: { readonly id: string };
    readonly items: number;
    progress(): SourceProgress | undefined;
  }[];
  /** The streams by id: the step producing each and, once `countItems` was called, its items. */
  readonly streams: ReadonlyMap<string, {
    readonly stepId: string;
    readonly items: number;
    countItems(): void;
  }>;
  /** The outputs, each with its step (whose `ups[0]` is the stream it writes). */
  readonly outputs: readonly {
    readonly step: { readonly id: string; readonly ups: readonly string[] };
  }[];
  /** The nodes' step ids, in `BusyTimes.nodes` order. */
  readonly nodeIds: readonly string[];
  /** The stateful steps and their nodes (a node may report `keyCount`). */
  readonly stateful: ReadonlyArray<{ readonly stepId: string; readonly node: unknown }>;
}

/**
 * Busy time per activation, in wall-clock milliseconds, summed since the run started. An
 * input's time is its `activate`: reading a batch and pushing its items through the fused
 * per-item chains and into the nodes' buffers; a node's time is its `flush`.
 */
export interface BusyTimes {
  /** Per input, in `ObservedWorker.inputs` order. */
  readonly inputs: number[];
  /** Per node, in `ObservedWorker.nodeIds` order. */
  readonly nodes: number[];
}

/** Receives a run's lifecycle from its scheduler. */
export interface RunObserver {
  /**
   * Every input and output is open; the first activation follows.
   *
   * @param worker The built graph, whose counters the observer may read at any time.
   * @param busy Busy times, updated by the scheduler after each activation.
   * @param epoch The first epoch of this run (the resumed epoch + 1 with recovery).
   */
  started(worker: ObservedWorker, busy: BusyTimes, epoch: number): void;
  /**
   * An epoch ended: its items are processed and its sink writes settled; with recovery its
   * commit has started (see `committed`).
   *
   * @param epoch The epoch that ended.
   * @param durationMs Wall-clock time since the previous epoch ended (or the run started).
   */
  epochEnded(epoch: number, durationMs: number): void;
  /**
   * An epoch's snapshot is durable.
   *
   * @param epoch The committed epoch.
   * @param bytes The size of the segment written.
   * @param latencyMs Wall-clock time from collecting the snapshot to durability.
   */
  committed(epoch: number, bytes: number, latencyMs: number): void;
}
