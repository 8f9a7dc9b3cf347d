/**
 * The contracts between weir's scheduler and an input connector.
 *
 * A source is one of two kinds:
 * - {@linkcode FixedPartitionedSource}: a fixed set of named partitions, each read by exactly
 *   one worker and able to snapshot its position, so a resumed run continues where the last
 *   committed epoch left off (exactly-once input when the source can seek).
 * - {@linkcode DynamicSource}: one stateless partition per worker, no resume (at-most-once
 *   unless the source itself remembers its position, like a Kafka consumer group).
 *
 * @module
 */
import type { Clock } from "../clock.ts";

/**
 * Returned by `nextBatch` when a partition has no more items: the partition is snapshotted
 * (for continuation), closed and removed; once every partition of every input is at EOF, the
 * run finishes.
 *
 * @example A partition that yields one batch and ends
 * ```ts
 * import { EOF, type StatelessSourcePartition } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * let done = false;
 * const part: StatelessSourcePartition<number> = {
 *   nextBatch: () => done ? EOF : (done = true, [1, 2]),
 * };
 * assertEquals(part.nextBatch(), [1, 2]);
 * assertEquals(part.nextBatch(), EOF);
 * ```
 */
export const EOF: unique symbol = Symbol("weir.EOF");
/** The type of {@linkcode EOF}. */
export type EOF = typeof EOF;

/** What a partition's `nextBatch` may return: items, {@linkcode EOF}, or a Promise of them. */
export type BatchResult<T> = Iterable<T> | EOF | Promise<Iterable<T> | EOF>;

/** What the runtime tells a partition when it builds it. */
export interface PartitionContext {
  /** The run's clock: partitions that schedule themselves (`nextAwake`) must use it. */
  readonly clock: Clock;
  /** This worker's index, from 0. */
  readonly workerIndex: number;
  /** How many workers run the flow. */
  readonly workerCount: number;
}

/**
 * One partition of a {@linkcode FixedPartitionedSource}: reads items in order and can report
 * its position.
 *
 * Contract:
 * - `nextBatch()` is called only when `nextAwake()` (asked once right after the build, then
 *   after every batch) has passed. It
 *   must not block: return what is available now (possibly `[]`), or a Promise that settles
 *   promptly — epoch ends wait for an outstanding batch, so keep that wait under ~100 ms and
 *   resolve `[]` when nothing came. Return {@linkcode EOF} at the end of input; throw
 *   `AbortExecution` to simulate a crash (tests).
 * - When `nextAwake` is absent or returns `undefined`, the partition is polled again at once
 *   after a non-empty batch and after a 1 ms cooldown after an empty one.
 * - `snapshot()` returns the position just after the last item returned by `nextBatch`; it is
 *   called at each epoch end and at EOF, never while a batch is outstanding. The value is
 *   stored by recovery and handed back to `buildPart` on resume; it must not be mutated
 *   afterwards.
 * - `close()` is called once, after the last `nextBatch`.
 *
 * @typeParam T The items.
 * @typeParam S The snapshot (resume state).
 */
export interface StatefulSourcePartition<T, S> {
  /** The next batch of items, {@linkcode EOF}, or a Promise of either. */
  nextBatch(): BatchResult<T>;
  /** When to call `nextBatch` next (epoch ms or Date); `undefined` for the default policy. */
  nextAwake?(): number | Date | undefined;
  /**
   * Optional: how far the partition has read, for progress bars, ETAs and lag metrics. Called
   * between activations (never while a batch is outstanding), at most a few times a second
   * and only when the run is observed; it must be cheap and must not throw. A file reports
   * `{ position: bytes read, end: file size }`; a Kafka partition its offset and end offset.
   */
  progress?(): SourceProgress;
  /** The position after the last returned item. */
  snapshot(): S;
  /** Releases resources. */
  close?(): void | Promise<void>;
}

/**
 * How far a source partition has read: what `progress()` on a partition returns. Positions
 * and ends are in the source's own unit (bytes for files, offsets for Kafka); an input's
 * progress is the sum over its partitions.
 *
 * @example A partition over an array reports items read out of the array's length
 * ```ts
 * import { EOF, type SourceProgress, type StatefulSourcePartition } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const data = ["a", "b", "c"];
 * let i = 0;
 * const part: StatefulSourcePartition<string, number> = {
 *   nextBatch: () => i < data.length ? [data[i++]!] : EOF,
 *   snapshot: () => i,
 *   progress: (): SourceProgress => ({ position: i, end: data.length }),
 * };
 * part.nextBatch();
 * assertEquals(part.progress!(), { position: 1, end: 3 });
 * ```
 */
export interface SourceProgress {
  /** Units read so far (for a file: bytes before the next record, from the file's start). */
  readonly position: number;
  /** Units in all, when known (a file's size when it was opened; Kafka's end offset). */
  readonly end?: number | undefined;
}

/**
 * An input with a fixed set of named partitions, each read by one worker, each resumable.
 *
 * @example An in-memory source with one resumable partition
 * ```ts
 * import { Dataflow, EOF, type FixedPartitionedSource } from "@weir/weir";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const letters: FixedPartitionedSource<string, number> = {
 *   listParts: () => ["letters"],
 *   buildPart(_stepId, _part, resume) {
 *     let i = resume ?? 0;
 *     const data = ["a", "b", "c"];
 *     return {
 *       nextBatch: () => i < data.length ? [data[i++]!] : EOF,
 *       snapshot: () => i,
 *     };
 *   },
 * };
 * const out: string[] = [];
 * const flow = new Dataflow("letters");
 * flow.input("inp", letters).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, ["a", "b", "c"]);
 * ```
 */
export interface FixedPartitionedSource<T, S> {
  /** The partitions this worker can read. */
  listParts(): readonly string[] | Promise<readonly string[]>;
  /**
   * Builds the reader for one partition, from its snapshot when the run resumes.
   *
   * @param stepId Fully qualified id of the input step.
   * @param forPart The partition name, one of `listParts()`.
   * @param resumeState The partition's last snapshot, or `undefined` on a fresh start.
   * @param ctx The run's clock and this worker's index.
   */
  buildPart(
    stepId: string,
    forPart: string,
    resumeState: S | undefined,
    ctx: PartitionContext,
  ): StatefulSourcePartition<T, S> | Promise<StatefulSourcePartition<T, S>>;
}

/**
 * One worker's reader of a {@linkcode DynamicSource}. Same polling contract as
 * {@linkcode StatefulSourcePartition}, without snapshots.
 */
export interface StatelessSourcePartition<T> {
  /** The next batch of items, {@linkcode EOF}, or a Promise of either. */
  nextBatch(): BatchResult<T>;
  /** When to call `nextBatch` next (epoch ms or Date); `undefined` for the default policy. */
  nextAwake?(): number | Date | undefined;
  /**
   * Optional: how far the partition has read, for progress bars, ETAs and lag metrics. Called
   * between activations (never while a batch is outstanding), at most a few times a second
   * and only when the run is observed; it must be cheap and must not throw. A file reports
   * `{ position: bytes read, end: file size }`; a Kafka partition its offset and end offset.
   */
  progress?(): SourceProgress;
  /** Releases resources. */
  close?(): void | Promise<void>;
}

/**
 * An input built once on every worker, each worker reading a disjoint share of the data. Has
 * no resume state.
 *
 * @example A source that counts to three on each worker
 * ```ts
 * import { Dataflow, type DynamicSource, EOF } from "@weir/weir";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const counter: DynamicSource<number> = {
 *   build() {
 *     let n = 0;
 *     return { nextBatch: () => n < 3 ? [n++] : EOF };
 *   },
 * };
 * const out: number[] = [];
 * const flow = new Dataflow("count");
 * flow.input("inp", counter).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [0, 1, 2]);
 * ```
 */
export interface DynamicSource<T> {
  /**
   * Builds this worker's partition.
   *
   * @param stepId Fully qualified id of the input step.
   * @param workerIndex This worker's index, from 0.
   * @param workerCount How many workers run the flow.
   * @param ctx The run's clock.
   */
  build(
    stepId: string,
    workerIndex: number,
    workerCount: number,
    ctx: PartitionContext,
  ): StatelessSourcePartition<T> | Promise<StatelessSourcePartition<T>>;
}

/** Any input connector. */
export type Source<T> =
  // deno-lint-ignore no-explicit-any
  | FixedPartitionedSource<T, any>
  | DynamicSource<T>;

/** Tells the two source kinds apart. */
export function isFixedPartitionedSource<T>(
  source: Source<T>,
): source is FixedPartitionedSource<T, unknown> {
  return typeof (source as FixedPartitionedSource<T, unknown>).listParts === "function";
}

/** Tells whether `source` implements one of the source interfaces. */
export function isSource(source: unknown): source is Source<unknown> {
  if (typeof source !== "object" || source === null) return false;
  const s = source as Record<string, unknown>;
  return (typeof s.listParts === "function" && typeof s.buildPart === "function") ||
    typeof s.build === "function";
}
