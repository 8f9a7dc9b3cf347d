/**
 * The contracts between weir's scheduler and an output connector.
 *
 * A sink is one of two kinds:
 * - {@linkcode FixedPartitionedSink}: consumes `[key, value]` pairs, routes each to a named
 *   partition chosen from the key, writes only the value; each partition snapshots its
 *   position so a resumed run can rewind it (exactly-once with a rewindable target).
 * - {@linkcode DynamicSink}: one stateless partition per worker that writes whatever reaches
 *   that worker (at-least-once).
 *
 * @module
 */
import type { PartitionContext } from "./inputs.ts";

/**
 * One partition of a {@linkcode FixedPartitionedSink}.
 *
 * Contract:
 * - `writeBatch(values)` receives the values routed to this partition during one activation,
 *   in order. Writes happen in epoch order; a returned Promise is awaited before the next
 *   write to this partition starts, and before the epoch ends.
 * - `snapshot()` is called at the end of each epoch in which the partition was written, after
 *   its writes settled; it returns the position after the last written value.
 * - `close()` is called once when the run finishes.
 *
 * @typeParam V The values written.
 * @typeParam S The snapshot (resume state).
 */
export interface StatefulSinkPartition<V, S> {
  /** Writes one batch of values. */
  writeBatch(values: V[]): void | Promise<void>;
  /** The position after the last written value. */
  snapshot(): S;
  /** Flushes and releases resources. */
  close?(): void | Promise<void>;
}

/**
 * An output with a fixed set of named partitions. Consumes `[key, value]` pairs: the key picks
 * the partition, the value is written.
 *
 * The partition of a key is `partFn(key) % n` used as an index into the sorted list of all
 * partition names. Partitions are built lazily, on their first write.
 *
 * @example Two in-memory partitions chosen by key
 * ```ts
 * import { Dataflow, type FixedPartitionedSink } from "@weir/weir";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const files: Record<string, string[]> = { even: [], odd: [] };
 * const sink: FixedPartitionedSink<string, number> = {
 *   listParts: () => ["even", "odd"],
 *   partFn: (key) => Number(key) % 2,
 *   buildPart: (_step, part) => ({
 *     writeBatch: (values) => void files[part]!.push(...values),
 *     snapshot: () => files[part]!.length,
 *   }),
 * };
 * const flow = new Dataflow("parts");
 * flow.input("inp", new TestingSource<[string, string]>([["1", "a"], ["2", "b"], ["3", "c"]]))
 *   .output("out", sink);
 * await runMain(flow);
 * assertEquals(files, { even: ["b"], odd: ["a", "c"] });
 * ```
 */
export interface FixedPartitionedSink<V, S> {
  /** All partitions of this sink that this worker can write. */
  listParts(): readonly string[] | Promise<readonly string[]>;
  /**
   * Builds the writer of one partition, from its snapshot when the run resumes.
   *
   * @param stepId Fully qualified id of the output step.
   * @param forPart The partition name, one of `listParts()`.
   * @param resumeState The partition's last snapshot, or `undefined` on a fresh start.
   * @param ctx The run's clock and this worker's index.
   */
  buildPart(
    stepId: string,
    forPart: string,
    resumeState: S | undefined,
    ctx: PartitionContext,
  ): StatefulSinkPartition<V, S> | Promise<StatefulSinkPartition<V, S>>;
  /**
   * Maps a key to a partition index (taken modulo the partition count). Must be stable across
   * processes. Defaults to the Adler-32 checksum of the key's UTF-8 bytes, like Bytewax.
   */
  partFn?(key: string): number;
}

/** One worker's writer of a {@linkcode DynamicSink}. */
export interface StatelessSinkPartition<T> {
  /** Writes one batch of items, in order; a returned Promise is awaited before the next. */
  writeBatch(items: T[]): void | Promise<void>;
  /** Flushes and releases resources. */
  close?(): void | Promise<void>;
}

/**
 * An output built once on every worker; each worker writes the items that reach it.
 *
 * @example Collecting into an array
 * ```ts
 * import { Dataflow, type DynamicSink } from "@weir/weir";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const seen: number[] = [];
 * const sink: DynamicSink<number> = {
 *   build: () => ({ writeBatch: (items) => void seen.push(...items) }),
 * };
 * const flow = new Dataflow("collect");
 * flow.input("inp", new TestingSource([1, 2, 3])).output("out", sink);
 * await runMain(flow);
 * assertEquals(seen, [1, 2, 3]);
 * ```
 */
export interface DynamicSink<T> {
  /**
   * Builds this worker's writer.
   *
   * @param stepId Fully qualified id of the output step.
   * @param workerIndex This worker's index, from 0.
   * @param workerCount How many workers run the flow.
   * @param ctx The run's clock.
   */
  build(
    stepId: string,
    workerIndex: number,
    workerCount: number,
    ctx: PartitionContext,
  ): StatelessSinkPartition<T> | Promise<StatelessSinkPartition<T>>;
  /**
   * With several workers (`run`'s `workers`), write on the main thread: one partition is
   * built there (worker 0 of 1), and every worker sends its batches to it (structured
   * clone). For sinks whose target lives in the caller's memory, like `TestingSink`'s array.
   * Default false: each worker builds and writes its own partition.
   */
  readonly mainThread?: boolean;
}

/**
 * Optional methods of a sink that makes each epoch's output visible in a second system with a
 * commit of its own — a transactional sink, like `KafkaSink` with `exactlyOnce`. The epoch is
 * then committed twice, in weir's recovery store and in the sink's system, and weir orders
 * the two:
 *
 * 1. `confirmedEpoch` is called once, before the store is loaded. It must first settle any
 *    earlier incarnation's uncommitted output (a transactional producer fences its
 *    predecessor, which aborts the open transaction), then return the last epoch whose
 *    output the sink committed (0 when none). It may only be the store's last epoch `e` or
 *    `e − 1`: with `e − 1`, epoch `e`'s output was lost with a crash between the two
 *    commits, and the run resumes from epoch `e − 1`'s state (the store keeps it loadable:
 *    with such a sink, the newest epoch is never folded into older ones) and does epoch `e`
 *    again.
 * 2. `commitEpoch(epoch)` is called at each epoch end, after the epoch's writes settled and
 *    the store's commit of `epoch` is durable (right after the writes without recovery),
 *    before the next epoch writes anything. It commits the epoch's output together with the
 *    epoch number, atomically, and is called for every epoch, even one with no output, so
 *    the sink's epoch follows the store's.
 *
 * A failure of either fails the run with the output step's id. A flow may have one such sink.
 *
 * @example A sink whose writes become visible only when their epoch commits
 * ```ts
 * import { Dataflow, type DynamicSink, type EpochCommitter, run } from "@weir/weir";
 * import { TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * class Ledger implements DynamicSink<string>, EpochCommitter {
 *   visible: string[] = [];
 *   pending: string[] = [];
 *   epoch = 0;
 *   confirmedEpoch() {
 *     this.pending = []; // a new run drops what the last one did not commit
 *     return Promise.resolve(this.epoch);
 *   }
 *   commitEpoch(epoch: number) {
 *     this.visible.push(...this.pending.splice(0));
 *     this.epoch = epoch;
 *     return Promise.resolve();
 *   }
 *   build() {
 *     return { writeBatch: (items: string[]) => void this.pending.push(...items) };
 *   }
 * }
 * const ledger = new Ledger();
 * const flow = new Dataflow("ledger");
 * flow.input("in", new TestingSource(["a", "b", "c"])).output("out", ledger);
 * await run(flow, { epochInterval: 0 });
 * assertEquals(ledger.visible, ["a", "b", "c"]);
 * assertEquals(ledger.epoch > 0, true);
 * ```
 */
export interface EpochCommitter {
  /**
   * `false` when this sink, as configured, does not commit its epochs (an at-least-once
   * `KafkaSink`): the runtime then treats it as an ordinary sink. Default `true`.
   */
  readonly commitsEpochs?: boolean;
  /** The last epoch this sink committed, after settling earlier uncommitted output. */
  confirmedEpoch(stepId: string): Promise<number>;
  /** Commits the output of `epoch` (its store commit is durable). */
  commitEpoch(epoch: number): Promise<void>;
}

/** Tells whether a sink commits its epochs itself ({@linkcode EpochCommitter}). */
export function isEpochCommitter(sink: unknown): sink is EpochCommitter {
  if (typeof sink !== "object" || sink === null) return false;
  const s = sink as Record<string, unknown>;
  return typeof s.confirmedEpoch === "function" && typeof s.commitEpoch === "function" &&
    s.commitsEpochs !== false;
}

/** Any output connector. */
export type Sink<T> =
  // deno-lint-ignore no-explicit-any
  | (T extends readonly [string, infer V] ? FixedPartitionedSink<V, any> : never)
  | DynamicSink<T>;

/** Tells the two sink kinds apart. */
export function isFixedPartitionedSink(
  sink: unknown,
): sink is FixedPartitionedSink<unknown, unknown> {
  return typeof (sink as FixedPartitionedSink<unknown, unknown>).listParts === "function";
}

/** Tells whether `sink` implements one of the sink interfaces. */
export function isSink(sink: unknown): boolean {
  if (typeof sink !== "object" || sink === null) return false;
  const s = sink as Record<string, unknown>;
  return (typeof s.listParts === "function" && typeof s.buildPart === "function") ||
    typeof s.build === "function";
}

/**
 * Adler-32 of the UTF-8 bytes of `key`: the default `partFn` of fixed-partitioned sinks,
 * stable across processes and runtimes.
 *
 * @example
 * ```ts
 * import { adler32 } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(adler32("Wikipedia"), 0x11e60398);
 * ```
 */
export function adler32(key: string): number {
  const bytes = encoder.encode(key);
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const encoder = new TextEncoder();
