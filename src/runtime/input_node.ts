/**
 * The runtime side of an input step: builds the source's partitions and polls them
 * cooperatively, pushing each batch into the step's channel.
 *
 * @module
 */
import { toEpochMs } from "../clock.ts";
import { AbortExecution, DataflowError } from "../errors.ts";
import type { InputStep } from "../dataflow/graph.ts";
import {
  type DynamicSource,
  EOF,
  isFixedPartitionedSource,
  type PartitionContext,
  type SourceProgress,
  type StatefulSourcePartition,
  type StatelessSourcePartition,
} from "../io/inputs.ts";
import type { Channel } from "./channel.ts";
import type { WorkerRuntime } from "./worker_runtime.ts";
import { isPromiseLike } from "../promise_like.ts";
import { partitionOwner } from "./owners.ts";

/** A partition's progress, or `undefined` when it has none or it threw. */
function partitionProgress(part: AnyPartition): SourceProgress | undefined {
  try {
    return part.progress?.();
  } catch {
    return undefined;
  }
}

type AnyPartition = StatefulSourcePartition<unknown, unknown> | StatelessSourcePartition<unknown>;

/** One partition being read. */
class PartitionReader {
  /** `nextBatch` is not called before this time. */
  awakeAt = Number.NEGATIVE_INFINITY;
  /** A Promise returned by `nextBatch` has not settled yet. */
  inFlight = false;
  /** A settled asynchronous batch waiting for the next activation. */
  ready: { batch: Iterable<unknown> | EOF } | undefined = undefined;
  /** A rejected asynchronous batch. */
  error: { err: unknown } | undefined = undefined;

  constructor(readonly name: string | undefined, readonly part: AnyPartition) {}
}

/** Polls an input's partitions and feeds its channel. */
export class InputNode {
  private live: PartitionReader[] = [];
  private completed = false;
  private readonly closing: Promise<void>[] = [];
  /** Positions of fixed partitions that ended since the last snapshot. */
  private ended: Array<[string, unknown]> = [];
  /** Set when a partition threw `AbortExecution`. */
  aborted = false;
  /** Every partition a fixed-partitioned source lists (after `open`), sorted. */
  listed: readonly string[] = [];
  /** Items pushed so far (counted per batch). */
  items = 0;
  /** Final positions of the partitions that ended (see {@linkcode InputNode.progress}). */
  private endedProgress = { position: 0, end: 0, known: true };
  /** The progress of the partitions a stop closed, as they were when it closed them. */
  private stoppedProgress: Array<SourceProgress | undefined> = [];

  constructor(
    readonly step: InputStep,
    private readonly rt: WorkerRuntime,
    private readonly out: Channel<unknown>,
  ) {}

  /**
   * Builds this worker's partitions.
   *
   * @param resume Each fixed partition's snapshot, when the run resumes.
   */
  async open(resume?: ReadonlyMap<string, unknown>): Promise<void> {
    const { source, id } = this.step;
    const ctx: PartitionContext = {
      clock: this.rt.clock,
      workerIndex: this.rt.workerIndex,
      workerCount: this.rt.workerCount,
    };
    if (isFixedPartitionedSource(source)) {
      let parts: readonly string[];
      try {
        parts = await source.listParts();
      } catch (err) {
        throw new DataflowError(id, "Failed to list the source's partitions", { cause: err });
      }
      this.listed = [...parts].sort();
      // Each partition is read by exactly one worker, its owner (round-robin over the
      // sorted names); with one worker, that is this one for all.
      const { workerIndex, workerCount } = this.rt;
      for (let i = 0; i < this.listed.length; i++) {
        if (partitionOwner(i, workerCount) !== workerIndex) continue;
        const name = this.listed[i]!;
        try {
          const part = await source.buildPart(id, name, resume?.get(name), ctx);
          this.live.push(new PartitionReader(name, part));
        } catch (err) {
          throw new DataflowError(id, "Failed to build the partition", {
            partition: name,
            cause: err,
          });
        }
      }
    } else {
      try {
        const part = await (source as DynamicSource<unknown>).build(
          id,
          this.rt.workerIndex,
          this.rt.workerCount,
          ctx,
        );
        this.live.push(new PartitionReader(undefined, part));
      } catch (err) {
        throw new DataflowError(id, "Failed to build the source", { cause: err });
      }
    }
    // A partition may ask not to be polled before some time from the start (alignment).
    for (const p of this.live) {
      let awake;
      try {
        awake = p.part.nextAwake?.();
      } catch (err) {
        throw this.error(p, "Failed to compute nextAwake", err);
      }
      if (awake !== undefined) p.awakeAt = toEpochMs(awake);
    }
  }

  /** True once every partition reached EOF. */
  get done(): boolean {
    return this.completed;
  }

  /** True while a `nextBatch` Promise is outstanding (epoch ends wait for it). */
  get inFlight(): boolean {
    for (const p of this.live) if (p.inFlight || p.ready !== undefined) return true;
    return false;
  }

  /** The earliest time a partition wants to be polled (for the scheduler's sleep). */
  nextWake(allowPoll: boolean): number {
    let at = Number.POSITIVE_INFINITY;
    for (const p of this.live) {
      if (p.ready !== undefined || p.error !== undefined) return Number.NEGATIVE_INFINITY;
      if (allowPoll && !p.inFlight && p.awakeAt < at) at = p.awakeAt;
    }
    return at;
  }

  /**
   * Polls every partition that is due (at most one batch each) and pushes the items.
   *
   * @param allowPoll False under backpressure: only batches that already arrived are pushed.
   * @returns How many items were pushed.
   */
  activate(now: number, allowPoll: boolean): number {
    let pushed = 0;
    const live = this.live;
    let ended = false;
    for (let i = 0; i < live.length; i++) {
      const p = live[i]!;
      let batch: Iterable<unknown> | EOF;
      if (p.error !== undefined) {
        this.failed(p, p.error.err);
        return pushed;
      } else if (p.ready !== undefined) {
        batch = p.ready.batch;
        p.ready = undefined;
      } else if (allowPoll && !p.inFlight && p.awakeAt <= now) {
        let result;
        try {
          result = p.part.nextBatch();
        } catch (err) {
          this.failed(p, err);
          return pushed;
        }
        if (isPromiseLike<Iterable<unknown> | EOF>(result)) {
          p.inFlight = true;
          result.then(
            (b) => {
              p.inFlight = false;
              p.ready = { batch: b };
              this.rt.wake();
            },
            (err) => {
              p.inFlight = false;
              p.error = { err };
              this.rt.wake();
            },
          );
          continue;
        }
        batch = result;
      } else {
        continue;
      }
      if (batch === EOF) {
        this.endPartition(p);
        ended = true;
        continue;
      }
      const n = this.push(p, batch);
      if (n < 0) return pushed;
      pushed += n;
      this.items += n;
      let awake;
      try {
        awake = p.part.nextAwake?.();
      } catch (err) {
        this.rt.fail(this.error(p, "Failed to compute nextAwake", err));
        return pushed;
      }
      p.awakeAt = awake !== undefined ? toEpochMs(awake) : n > 0 ? now : now + 1;
    }
    if (ended) this.live = live.filter((p) => p.awakeAt !== Number.POSITIVE_INFINITY);
    if (this.live.length === 0 && !this.completed) {
      this.completed = true;
      this.out.complete();
    }
    return pushed;
  }

  private push(p: PartitionReader, batch: Iterable<unknown>): number {
    const out = this.out;
    if (Array.isArray(batch)) {
      for (let i = 0; i < batch.length; i++) out.next(batch[i]);
      return batch.length;
    }
    if (batch == null || typeof (batch as Iterable<unknown>)[Symbol.iterator] !== "function") {
      this.rt.fail(
        this.error(
          p,
          "nextBatch must return an iterable of items or EOF",
          new TypeError(String(batch)),
        ),
      );
      return -1;
    }
    let n = 0;
    try {
      for (const item of batch) {
        out.next(item);
        n++;
      }
    } catch (err) {
      this.rt.fail(this.error(p, "Failed to iterate the batch", err));
      return -1;
    }
    return n;
  }

  private endPartition(p: PartitionReader): void {
    p.awakeAt = Number.POSITIVE_INFINITY;
    const ended = this.endedProgress;
    const pr = partitionProgress(p.part);
    if (pr === undefined) ended.known = false;
    else {
      ended.position += pr.position;
      ended.end += pr.end ?? pr.position;
    }
    // A fixed partition's position at EOF is kept, so a later run continues after it.
    if (p.name !== undefined) {
      try {
        this.ended.push([p.name, (p.part as StatefulSourcePartition<unknown, unknown>).snapshot()]);
      } catch (err) {
        this.rt.fail(this.error(p, "snapshot failed", err));
      }
    }
    this.closePart(p);
  }

  private closePart(p: PartitionReader): void {
    try {
      const r = p.part.close?.();
      if (isPromiseLike<void>(r)) {
        this.closing.push(
          Promise.resolve(r).catch((err) => this.rt.fail(this.error(p, "Failed to close", err))),
        );
      }
    } catch (err) {
      this.rt.fail(this.error(p, "Failed to close", err));
    }
  }

  private failed(p: PartitionReader, err: unknown): void {
    if (err instanceof AbortExecution) {
      this.aborted = true;
      this.rt.wake();
      return;
    }
    this.rt.fail(this.error(p, "Failed to read the next batch", err));
  }

  private error(p: PartitionReader, what: string, cause: unknown): DataflowError {
    return cause instanceof DataflowError
      ? cause
      : new DataflowError(this.step.id, what, { partition: p.name, cause });
  }

  /**
   * Calls `fn` with the position of every fixed partition: the live ones, and those that
   * ended since the last call. Throws a DataflowError naming the partition on failure.
   */
  forEachPosition(fn: (partition: string, snapshot: unknown) => void): void {
    for (const p of this.live) {
      if (p.name === undefined) continue;
      let snap;
      try {
        snap = (p.part as StatefulSourcePartition<unknown, unknown>).snapshot();
      } catch (err) {
        throw this.error(p, "snapshot failed", err);
      }
      fn(p.name, snap);
    }
    const ended = this.ended;
    this.ended = [];
    for (const [name, snap] of ended) fn(name, snap);
  }

  /**
   * How far the input has read, summed over its partitions (see
   * `StatefulSourcePartition.progress`), or `undefined` unless every partition reports it.
   * `end` is `undefined` when a partition's end is unknown.
   */
  progress(): SourceProgress | undefined {
    const e = this.endedProgress;
    if (!e.known) return undefined;
    let position = e.position;
    let end: number | undefined = e.end;
    for (const p of this.live) {
      const pr = partitionProgress(p.part);
      if (pr === undefined) return undefined;
      position += pr.position;
      end = end === undefined || pr.end === undefined ? undefined : end + pr.end;
    }
    for (const pr of this.stoppedProgress) {
      if (pr === undefined) return undefined;
      position += pr.position;
      end = end === undefined || pr.end === undefined ? undefined : end + pr.end;
    }
    return { position, end };
  }

  /** True for a fixed-partitioned source (its positions are snapshotted). */
  get isFixed(): boolean {
    return isFixedPartitionedSource(this.step.source);
  }

  /**
   * Closes the partitions still open at a graceful stop (no EOF: their positions stay where
   * the last snapshot took them). A failure fails the run naming the partition.
   */
  async close(): Promise<void> {
    const live = this.live;
    this.live = [];
    this.stoppedProgress = live.map((p) => partitionProgress(p.part));
    for (const p of live) this.closePart(p);
    await this.settle();
  }

  /** Closes the partitions still open (after a failure or abort), best effort. */
  async shutdown(): Promise<void> {
    for (const p of this.live) {
      try {
        await p.part.close?.();
      } catch {
        // The run already failed or aborted; the first error is the one reported.
      }
    }
    this.live = [];
    await Promise.all(this.closing);
  }

  /** Waits for the partitions closed at EOF. */
  async settle(): Promise<void> {
    await Promise.all(this.closing.splice(0));
  }
}
