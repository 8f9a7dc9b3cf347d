/**
 * The runtime side of an output step: buffers the items of an activation and writes them as
 * one batch per partition, keeping each partition's writes in order.
 *
 * @module
 */
import { DataflowError } from "../errors.ts";
import type { RuntimeNode } from "../dataflow/op.ts";
import type { OutputStep } from "../dataflow/graph.ts";
import {
  adler32,
  type DynamicSink,
  type FixedPartitionedSink,
  isFixedPartitionedSink,
  type StatefulSinkPartition,
  type StatelessSinkPartition,
} from "../io/outputs.ts";
import type { PartitionContext } from "../io/inputs.ts";
import type { WorkerRuntime } from "./worker_runtime.ts";
import { isPromiseLike } from "../promise_like.ts";
import { partitionOwner } from "./owners.ts";

type AnySinkPartition = StatefulSinkPartition<unknown, unknown> | StatelessSinkPartition<unknown>;

/** How many batches may be in flight per partition before inputs pause. */
const MAX_OUTSTANDING_WRITES = 8;

/**
 * Writes batches to one sink partition in order. Synchronous writes run inline; once a write
 * returns a Promise, later writes queue behind it.
 */
class PartitionWriter {
  part: AnySinkPartition | undefined = undefined;
  outstanding = 0;
  /** Written in the current epoch (its position is snapshotted at the epoch's end). */
  written = false;
  private tail: Promise<void> | undefined = undefined;

  constructor(
    private readonly stepId: string,
    readonly name: string | undefined,
    private readonly rt: WorkerRuntime,
    private readonly build: () => AnySinkPartition | Promise<AnySinkPartition>,
  ) {}

  write(batch: unknown[]): void {
    this.written = true;
    if (this.tail === undefined) {
      if (this.part === undefined && !this.startBuild()) return;
      if (this.tail === undefined) {
        try {
          this.writeNow(batch);
        } catch (err) {
          this.rt.fail(this.error("Failed to write a batch", err));
        }
        return;
      }
    }
    // A queued write is dropped once the run failed (e.g. an earlier write rejected): writing
    // it would leave a gap in the partition's output.
    this.track(
      this.tail.then(() => this.rt.failure === undefined ? this.writeNow(batch) : undefined),
    );
  }

  private startBuild(): boolean {
    let built;
    try {
      built = this.build();
    } catch (err) {
      this.rt.fail(this.error("Failed to build the partition", err));
      return false;
    }
    if (isPromiseLike<AnySinkPartition>(built)) {
      this.track(
        Promise.resolve(built).then((p) => void (this.part = p)),
        "Failed to build the partition",
      );
    } else {
      this.part = built;
    }
    return true;
  }

  /** Writes inline; returns a Promise only for an asynchronous write (for chaining). */
  private writeNow(batch: unknown[]): Promise<void> | void {
    let r;
    try {
      r = this.part!.writeBatch(batch);
    } catch (err) {
      throw this.error("Failed to write a batch", err);
    }
    if (isPromiseLike<void>(r)) {
      if (this.tail === undefined) this.track(Promise.resolve(r));
      else return Promise.resolve(r);
    }
  }

  private track(p: Promise<void>, what = "Failed to write a batch"): void {
    this.outstanding++;
    const t: Promise<void> = p.then(
      () => {
        this.outstanding--;
        if (this.tail === t) this.tail = undefined;
        this.rt.wake();
      },
      (err) => {
        this.outstanding--;
        if (this.tail === t) this.tail = undefined;
        this.rt.fail(this.error(what, err));
      },
    );
    this.tail = t;
  }

  /** Resolves when every write so far settled. */
  async settle(): Promise<void> {
    while (this.tail !== undefined) await this.tail;
  }

  async close(): Promise<void> {
    await this.settle();
    await this.part?.close?.();
  }

  private error(what: string, cause: unknown): DataflowError {
    return cause instanceof DataflowError
      ? cause
      : new DataflowError(this.stepId, what, { partition: this.name, cause });
  }
}

/** Shared by both output kinds: the write side of the activation cycle. */
abstract class OutputNodeBase implements RuntimeNode<unknown> {
  protected upstreamDone = false;

  constructor(readonly step: OutputStep, protected readonly rt: WorkerRuntime) {}

  /**
   * Prepares the sink before the first activation.
   *
   * @param resume Each fixed partition's snapshot, when the run resumes.
   */
  abstract open(resume?: ReadonlyMap<string, unknown>): Promise<void>;

  /**
   * Calls `fn` with the position of every fixed partition written in the epoch (after its
   * writes settled). Throws a DataflowError naming the partition on failure.
   */
  forEachPosition(fn: (partition: string, snapshot: unknown) => void): void {
    for (const w of this.writers()) {
      if (!w.written || w.name === undefined || w.part === undefined) continue;
      w.written = false;
      let snap;
      try {
        snap = (w.part as StatefulSinkPartition<unknown, unknown>).snapshot();
      } catch (err) {
        throw new DataflowError(this.step.id, "snapshot failed", { partition: w.name, cause: err });
      }
      fn(w.name, snap);
    }
  }

  /** True for a fixed-partitioned sink (its positions are snapshotted). */
  get isFixed(): boolean {
    return isFixedPartitionedSink(this.step.sink);
  }

  /** Every partition a fixed-partitioned sink lists (after `open`), sorted. */
  get listed(): readonly string[] {
    return [];
  }
  abstract next(item: unknown): void;
  abstract flush(now: number): void;
  protected abstract writers(): Iterable<PartitionWriter>;

  complete(): void {
    this.upstreamDone = true;
  }

  pending(): number {
    let n = 0;
    for (const w of this.writers()) n += w.outstanding;
    return n;
  }

  isFull(): boolean {
    for (const w of this.writers()) if (w.outstanding >= MAX_OUTSTANDING_WRITES) return true;
    return false;
  }

  /** Waits for every outstanding write. */
  async settle(): Promise<void> {
    for (const w of this.writers()) await w.settle();
  }

  async close(): Promise<void> {
    for (const w of this.writers()) {
      try {
        await w.close();
      } catch (err) {
        throw err instanceof DataflowError
          ? err
          : new DataflowError(this.step.id, "Failed to close", {
            partition: w.name,
            cause: err,
          });
      }
    }
  }

  protected partitionContext(): PartitionContext {
    return {
      clock: this.rt.clock,
      workerIndex: this.rt.workerIndex,
      workerCount: this.rt.workerCount,
    };
  }
}

/** Output to a DynamicSink: one partition on this worker. */
export class DynamicOutputNode extends OutputNodeBase {
  private buf: unknown[] = [];
  private readonly writer: PartitionWriter;

  constructor(step: OutputStep, rt: WorkerRuntime) {
    super(step, rt);
    const sink = this.sink();
    this.writer = new PartitionWriter(
      step.id,
      undefined,
      rt,
      () => sink.build(step.id, rt.workerIndex, rt.workerCount, this.partitionContext()),
    );
  }

  /**
   * The sink, or with several workers and a `mainThread` sink, one whose partition sends each
   * batch to the coordinator, which writes it into the main thread's sink.
   */
  private sink(): DynamicSink<unknown> {
    const sink = this.step.sink as DynamicSink<unknown>;
    const toMain = this.rt.toMain;
    if (toMain === undefined || sink.mainThread !== true) return sink;
    const step = this.step.id;
    return {
      build: () => ({ writeBatch: (items: unknown[]) => toMain({ t: "out", step, items }) }),
    };
  }

  /** Builds this worker's partition up front (like Bytewax), so build errors surface at once. */
  async open(): Promise<void> {
    const sink = this.sink();
    try {
      this.writer.part = await sink.build(
        this.step.id,
        this.rt.workerIndex,
        this.rt.workerCount,
        this.partitionContext(),
      );
    } catch (err) {
      throw new DataflowError(this.step.id, "Failed to build the sink", { cause: err });
    }
  }

  next(item: unknown): void {
    this.buf.push(item);
  }

  flush(): void {
    if (this.buf.length === 0 || this.rt.failure !== undefined) return;
    const batch = this.buf;
    this.buf = [];
    this.writer.write(batch);
  }

  protected writers(): Iterable<PartitionWriter> {
    return [this.writer];
  }
}

/** Output to a FixedPartitionedSink: routes `[key, value]` to partitions by key. */
export class PartitionedOutputNode extends OutputNodeBase {
  private names: string[] = [];
  private parts: PartitionWriter[] = [];
  private bufs: unknown[][] = [];
  private readonly partFn: (key: string) => number;

  override get listed(): readonly string[] {
    return this.names;
  }

  constructor(step: OutputStep, rt: WorkerRuntime) {
    super(step, rt);
    const sink = step.sink as FixedPartitionedSink<unknown, unknown>;
    this.partFn = sink.partFn ? (k) => sink.partFn!(k) : adler32;
  }

  /**
   * Lists the partitions. Writers are built lazily on first write, except those with a
   * snapshot, which are rebuilt at once (a rewindable sink truncates to its position).
   */
  async open(resume?: ReadonlyMap<string, unknown>): Promise<void> {
    const sink = this.step.sink as FixedPartitionedSink<unknown, unknown>;
    let names;
    try {
      names = await sink.listParts();
    } catch (err) {
      throw new DataflowError(this.step.id, "Failed to list the sink's partitions", { cause: err });
    }
    if (names.length === 0) {
      throw new DataflowError(this.step.id, "The sink lists no partitions");
    }
    this.names = [...names].sort();
    const build = (name: string, resumeState: unknown) =>
      sink.buildPart(this.step.id, name, resumeState, this.partitionContext());
    this.parts = this.names.map((name) =>
      new PartitionWriter(this.step.id, name, this.rt, () => build(name, undefined))
    );
    this.bufs = this.names.map(() => []);
    if (resume === undefined) return;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      // With several workers, only the partition's owner rebuilds (and writes) it.
      if (partitionOwner(i, this.rt.workerCount) !== this.rt.workerIndex) continue;
      if (!resume.has(name)) continue;
      try {
        this.parts[i]!.part = await build(name, resume.get(name));
      } catch (err) {
        throw new DataflowError(this.step.id, "Failed to rebuild the partition from its snapshot", {
          partition: name,
          cause: err,
        });
      }
    }
  }

  /**
   * The index of the partition (in sorted order) `item` goes to, or -1 when it is not a
   * `[key, value]` pair or `partFn` fails (`next` then reports it). For the exchange.
   */
  partitionIndex(item: unknown): number {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string") return -1;
    let idx;
    try {
      idx = this.partFn(item[0]);
    } catch {
      return -1;
    }
    if (!Number.isInteger(idx)) return -1;
    const n = this.names.length;
    return ((idx % n) + n) % n;
  }

  next(item: unknown): void {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string") {
      this.rt.fail(
        new DataflowError(
          this.step.id,
          "A partitioned sink needs [key, value] pairs with a string key",
          { cause: new TypeError(`Got ${describeItem(item)}`) },
        ),
      );
      return;
    }
    const key = item[0];
    let idx;
    try {
      idx = this.partFn(key);
    } catch (err) {
      this.rt.fail(new DataflowError(this.step.id, "partFn failed", { key, cause: err }));
      return;
    }
    if (!Number.isInteger(idx)) {
      this.rt.fail(
        new DataflowError(this.step.id, `partFn must return an integer, got ${idx}`, { key }),
      );
      return;
    }
    const n = this.names.length;
    this.bufs[((idx % n) + n) % n]!.push(item[1]);
  }

  flush(): void {
    if (this.rt.failure !== undefined) return;
    for (let i = 0; i < this.bufs.length; i++) {
      const b = this.bufs[i]!;
      if (b.length === 0) continue;
      this.bufs[i] = [];
      this.parts[i]!.write(b);
    }
  }

  protected writers(): Iterable<PartitionWriter> {
    return this.parts.filter((w) => w.part !== undefined || w.outstanding > 0);
  }
}

/** Builds the output node for a step. */
export function makeOutputNode(step: OutputStep, rt: WorkerRuntime): OutputNodeBase {
  return isFixedPartitionedSink(step.sink)
    ? new PartitionedOutputNode(step, rt)
    : new DynamicOutputNode(step, rt);
}

/** An output node as the scheduler sees it. */
export type OutputNode = OutputNodeBase;

function describeItem(item: unknown): string {
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return String(item);
  }
}
