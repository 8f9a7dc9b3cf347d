/**
 * The scheduler: the only driver of a worker. It polls source partitions, pushes their
 * batches through the built graph, flushes buffered and asynchronous steps at the end of each
 * activation, advances epochs, and finishes the run at EOF.
 *
 * One activation ({@linkcode Scheduler.activate}):
 * 1. sample `now` once (never decreasing);
 * 2. poll each due partition once (or take the batch its Promise delivered) and push the
 *    items — synchronous RxJS chains run to completion inside `next`;
 * 3. flush every node in topological order (sinks write their buffered batch here).
 *
 * Between activations the scheduler sleeps until the earliest of: a partition's `nextAwake`,
 * a node timer, the epoch deadline, or a wake-up from asynchronous work. It never busy-spins:
 * an empty batch without `nextAwake` cools the partition down for 1 ms.
 *
 * An epoch ends ({@linkcode Scheduler.endEpoch}) by: not reading further; draining
 * outstanding partition batches and asynchronous steps; awaiting every sink write; then
 * (recovery) snapshotting; then incrementing the epoch. Inputs are not read past an
 * unfinished epoch: that is the backpressure.
 *
 * A stop (`SchedulerOptions.signal` aborted, {@linkcode Scheduler.stop}) polls no partition
 * again, ends the current epoch like any epoch end (so a batch in flight is taken and
 * processed, asynchronous work drains, sinks write, recovery commits) and closes sources and
 * sinks without EOF: no stream completes, so no `onEof` runs and no window closes.
 *
 * @module
 */
import { attributeError, DataflowError } from "../errors.ts";
import type { RecoveryStore } from "../recovery/store.ts";
import { type RestoredState, stateKey } from "../recovery/restored.ts";
import type { BuiltWorker } from "./build.ts";
import { collectSnapshots } from "./checkpoint.ts";
import type { OutputNode } from "./output_node.ts";
import { type EpochCommitter, isEpochCommitter } from "../io/outputs.ts";
import { macrotask, timerTask } from "./util.ts";
import type { BusyTimes, RunObserver } from "../observe/observer.ts";

/** How a run ended. */
export interface RunSummary {
  /**
   * - `"eof"`: every input ended; EOF ran everywhere (`onEof`, every window closed) and, with
   *   recovery, the final epoch was committed.
   * - `"stopped"`: the run's `signal` aborted. Reading stopped, the current epoch was finished
   *   (in-flight work drained, sinks written) and, with recovery, committed; then sources and
   *   sinks were closed without EOF: no `onEof`, no window closed. A pause: a resumed run
   *   continues exactly where this one stopped.
   * - `"aborted"`: a source threw `AbortExecution` (a simulated crash). Like a stop, no EOF;
   *   unlike a stop, the current epoch is neither finished nor committed, so a resumed run
   *   replays it from the last commit.
   */
  readonly status: "eof" | "stopped" | "aborted";
  /** The last epoch the run was in. */
  readonly epoch: number;
  /** With recovery: the epoch the run resumed after (0 for a fresh start). */
  readonly resumedFrom?: number;
}

/** Options the scheduler needs. */
export interface SchedulerOptions {
  /** Epoch length in milliseconds of the run's clock. */
  readonly epochInterval: number;
  /** The flow id, for errors not attributable to a step. */
  readonly flowId: string;
  /** Where each epoch's snapshots are committed (recovery on). */
  readonly store?: RecoveryStore;
  /** Restored positions of source and sink partitions (a resumed run). */
  readonly resume?: RestoredState;
  /**
   * Called once every input and output is open (their partitions listed), before the first
   * activation: a resumed run refuses positions of partitions no longer listed here.
   */
  readonly opened?: () => void;
  /** Stops the run gracefully when it aborts (see {@linkcode Scheduler.stop}). */
  readonly signal?: AbortSignal;
  /** Told of the run's start, epoch ends and commits (progress, metrics, tracing). */
  readonly observer?: RunObserver;
}

/** Time slice after which a busy scheduler yields to the event loop (wall-clock ms). */
const YIELD_EVERY_MS = 10;
/**
 * Time after which, if no timer has run, a yield goes through a timer (wall-clock ms). A
 * MessageChannel turn is cheap, but Deno (once an npm package is loaded) runs up to 64 of them
 * before it polls its timers and I/O again; a timer turn costs ~2 ms but lets everything run.
 */
const TIMER_YIELD_EVERY_MS = 50;

/** Drives one built worker to completion. */
export class Scheduler {
  protected lastNow = Number.NEGATIVE_INFINITY;
  /** Something happened since the last epoch end (see the run loop, epochInterval 0). */
  protected workSinceEpoch = true;
  protected epochEndsAt = 0;
  /** Wall-clock time of the last yield to the event loop. */
  protected sliceStart = 0;
  /** Wall-clock time at which the host last ran timers (seen by a heartbeat timer). */
  protected timersRanAt = 0;
  protected heartbeat: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Busy times per input and node, kept only when the run is observed. */
  protected busy: BusyTimes | undefined = undefined;
  /** Wall-clock time the current epoch started (observed runs). */
  protected epochStartedAt = 0;

  /** The output whose sink commits each epoch after the store (at most one per flow). */
  protected readonly committer: OutputNode | undefined;

  constructor(protected readonly w: BuiltWorker, protected readonly opts: SchedulerOptions) {
    this.committer = w.outputs.find((o) => isEpochCommitter(o.step.sink));
  }

  /** Runs until EOF, stop, abort or failure. Rejects with the run's DataflowError on failure. */
  async run(): Promise<RunSummary> {
    const { rt, inputs, outputs } = this.w;
    const signal = this.opts.signal;
    // Stopped before it started: nothing is opened, read or committed.
    if (signal?.aborted) return { status: "stopped", epoch: rt.epoch };
    // A stop must not wait for the sleep's deadline (an idle source, a long epoch): wake up.
    const onStop = () => rt.wake();
    signal?.addEventListener("abort", onStop);
    try {
      const resume = this.opts.resume;
      for (const inp of inputs) await inp.open(resume?.get(stateKey("source", inp.step.id)));
      for (const out of outputs) await out.open(resume?.get(stateKey("sink", out.step.id)));
      this.opts.opened?.();
      const observer = this.opts.observer;
      if (observer !== undefined) {
        this.busy = { inputs: inputs.map(() => 0), nodes: this.w.nodes.map(() => 0) };
        this.epochStartedAt = performance.now();
        observer.started(this.w, this.busy, rt.epoch);
      }
      this.epochEndsAt = this.sampleNow() + this.opts.epochInterval;
      this.sliceStart = this.timersRanAt = performance.now();
      for (;;) {
        // Busy work (including epoch ends and asynchronous batches that settle at once, which
        // only run microtasks) must not starve timers and I/O.
        this.armHeartbeat();
        if (performance.now() - this.sliceStart > YIELD_EVERY_MS) await this.yieldToEventLoop();
        // Checked before each activation, so no partition is polled once the stop was asked.
        if (signal?.aborted) return await this.stop();
        const now = this.sampleNow();
        const allowPoll = !this.anyFull();
        const pushed = this.activate(now, allowPoll);
        if (rt.failure !== undefined) throw rt.failure;
        if (this.aborted()) return await this.abort();
        if (this.inputsDone() && this.idle()) {
          await this.endEpoch();
          await this.finish();
          return { status: "eof", epoch: rt.epoch };
        }
        if (pushed > 0) this.workSinceEpoch = true;
        // With epochInterval 0 an epoch ends after each activation that had something to do,
        // not after idle ones: otherwise an idle run would spin through empty epochs (and,
        // with recovery, commit them) instead of sleeping until its next wake-up.
        if (now >= this.epochEndsAt && (this.opts.epochInterval > 0 || this.workSinceEpoch)) {
          await this.endEpoch();
          if (this.aborted()) return await this.abort();
          // Stopped while this epoch ended: it is the stop's epoch, no need for another.
          if (signal?.aborted) return await this.stopped();
          rt.epoch++;
          this.workSinceEpoch = false;
          this.epochEndsAt = this.sampleNow() + this.opts.epochInterval;
          continue;
        }
        if (pushed > 0) continue;
        const sleptFrom = performance.now();
        const epochDeadline = this.opts.epochInterval > 0
          ? this.epochEndsAt
          : Number.POSITIVE_INFINITY;
        await this.sleep(Math.min(epochDeadline, this.nextWake(allowPoll)));
        // Whatever woke the scheduler (a timer, a settled batch or call) is work for the epoch.
        this.workSinceEpoch = true;
        // Timers ran during the sleep: it went through the event loop, not only microtasks.
        if (this.timersRanAt >= sleptFrom) this.sliceStart = performance.now();
      }
    } catch (err) {
      await this.shutdown();
      throw rt.failure ?? err;
    } finally {
      signal?.removeEventListener("abort", onStop);
      clearTimeout(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /**
   * The graceful stop: reads nothing more, ends the current epoch as any epoch end does (a
   * batch already in flight is taken and pushed — the partition's position already counts
   * its items, so they must be processed in this epoch —, asynchronous steps drain, sink
   * writes settle; with recovery the epoch is committed), then closes sinks, sources and
   * nodes without EOF. If the inputs reached EOF while the epoch drained (a batch in flight
   * was the last), the run finishes as at EOF instead.
   */
  protected async stop(): Promise<RunSummary> {
    await this.endEpoch();
    if (this.aborted()) return await this.abort();
    return await this.stopped();
  }

  /**
   * After the stop's epoch ended: waits for its commit, then closes sinks, sources and nodes
   * as at EOF but without completing any stream (no `onEof`, no window closes). Failures
   * reject the run like any other. Inputs that reached EOF while the epoch drained finish the
   * run as at EOF instead.
   */
  protected async stopped(): Promise<RunSummary> {
    if (this.inputsDone()) {
      await this.finish();
      return { status: "eof", epoch: this.w.rt.epoch };
    }
    // The stop's snapshot is durable before the run reports it.
    await this.awaitCommit();
    return await closeStopped(this.w);
  }

  /** One activation: poll due partitions, push their items, flush nodes in order. */
  activate(now: number, allowPoll: boolean): number {
    const { rt, inputs } = this.w;
    const busy = this.busy;
    rt.clearWake();
    rt.now = now;
    rt.inActivation = true;
    let pushed = 0;
    try {
      // Timers that came due since the last activation fire before new input is read, as
      // they would have had the scheduler woken exactly at their time.
      if (this.timersDue(now)) this.flushNodes(now);
      if (rt.failure !== undefined) return pushed;
      for (let i = 0; i < inputs.length; i++) {
        const inp = inputs[i]!;
        const t0 = busy === undefined ? 0 : performance.now();
        pushed += inp.activate(now, allowPoll);
        if (busy !== undefined) busy.inputs[i]! += performance.now() - t0;
        if (rt.failure !== undefined || inp.aborted) return pushed;
      }
      this.flushNodes(now);
    } catch (err) {
      rt.fail(attributeError(err, this.opts.flowId, "Internal error"));
    } finally {
      rt.inActivation = false;
    }
    return pushed;
  }

  protected flushNodes(now: number): void {
    const { rt, nodes } = this.w;
    const busy = this.busy;
    for (let i = 0; i < nodes.length; i++) {
      const t0 = busy === undefined ? 0 : performance.now();
      nodes[i]!.flush?.(now);
      if (busy !== undefined) busy.nodes[i]! += performance.now() - t0;
      if (rt.failure !== undefined) return;
    }
  }

  protected timersDue(now: number): boolean {
    for (const n of this.w.nodes) {
      const t = n.nextWake?.();
      if (t !== undefined && t <= now) return true;
    }
    return false;
  }

  /**
   * Ends the current epoch: drains outstanding source batches and asynchronous steps (in
   * activations that do not poll), then awaits every sink write.
   */
  async endEpoch(): Promise<void> {
    const { rt, inputs, outputs } = this.w;
    while (inputs.some((i) => i.inFlight) || !this.idle()) {
      const now = this.sampleNow();
      this.activate(now, false);
      if (rt.failure !== undefined) throw rt.failure;
      if (this.aborted()) return;
      if (inputs.some((i) => i.inFlight) || !this.idle()) {
        await this.sleep(this.nextWake(false));
      }
    }
    for (const out of outputs) await out.settle();
    if (rt.failure !== undefined) throw rt.failure;
    if (this.opts.store !== undefined) await this.commitEpoch(this.opts.store);
    if (this.committer !== undefined) await this.commitSink(this.committer);
    for (const node of this.w.nodes) node.epochEnded?.(rt.epoch);
    if (this.opts.observer !== undefined) {
      const t = performance.now();
      this.opts.observer.epochEnded(rt.epoch, t - this.epochStartedAt);
      this.epochStartedAt = t;
    }
  }

  /**
   * The second commit of an epoch: once the store's commit is durable (the asynchronous
   * snapshot is awaited here, so the next epoch starts after both), the sink commits the
   * epoch's output with the epoch number (see `EpochCommitter`).
   */
  private async commitSink(out: OutputNode): Promise<void> {
    const { rt } = this.w;
    await this.awaitCommit();
    try {
      await (out.step.sink as EpochCommitter).commitEpoch(rt.epoch);
    } catch (err) {
      rt.fail(
        new DataflowError(out.step.id, `Failed to commit the output of epoch ${rt.epoch}`, {
          cause: err,
        }),
      );
      throw rt.failure;
    }
  }

  /** The previous epoch's commit, still being written (see `commitEpoch`). */
  protected committing: Promise<void> | undefined = undefined;

  /** Waits for the commit in flight, if any; throws its failure. */
  protected async awaitCommit(): Promise<void> {
    const c = this.committing;
    if (c === undefined) return;
    this.committing = undefined;
    await c;
  }

  /**
   * Collects the epoch's snapshots — touched keys of every stateful step, every source
   * partition's position, every sink partition written — and starts committing them.
   *
   * The snapshots are taken and encoded here, synchronously; the write (and its fsync) then
   * proceeds while the next epoch runs — an asynchronous snapshot, as in Flink — and the next
   * epoch end, EOF, or an abort waits for it before going on. Nothing that must follow
   * durability happens before that wait: a crash while the write is in flight resumes from
   * the previous commit, whose positions (sink offsets included) predate anything the next
   * epoch did.
   */
  protected async commitEpoch(store: RecoveryStore): Promise<void> {
    await this.awaitCommit();
    const { rt } = this.w;
    const seg = store.beginEpoch();
    collectSnapshots(this.w, seg, this.opts.flowId);
    const observer = this.opts.observer;
    const epoch = rt.epoch;
    const t0 = observer === undefined ? 0 : performance.now();
    const commit = store.commit(epoch, seg, this.sampleNow()).then((bytes) => {
      observer?.committed(epoch, bytes, performance.now() - t0);
    });
    // A failed write fails the run at once (and again when awaited).
    commit.catch((err) => rt.fail(attributeError(err, this.opts.flowId, "Commit failed")));
    this.committing = commit;
  }

  protected async finish(): Promise<void> {
    const { rt, inputs, outputs, channels } = this.w;
    // The final snapshot is durable before the run reports EOF.
    await this.awaitCommit();
    // Every stream must have ended: one that did not is held open by an asynchronous RxJS
    // operator, whose pending items would otherwise be lost without a word.
    const open = channels.find((ch) => !ch.closed);
    if (open !== undefined) {
      rt.fail(
        new DataflowError(
          open.stepId,
          "Did not finish at EOF: an asynchronous RxJS operator (delay, bufferTime, mergeMap " +
            "over promises…) is holding items; such operators are not valid steps, use mapAsync",
        ),
      );
      throw rt.failure;
    }
    for (const out of outputs) await out.close();
    for (const inp of inputs) await inp.settle();
    for (const node of this.w.steps) await node.close?.();
    for (const ch of channels) ch.unsubscribe();
    if (rt.failure !== undefined) throw rt.failure;
  }

  protected async abort(): Promise<never | { status: "aborted"; epoch: number }> {
    // A commit in flight completes (or fails) before the run returns: the store is left as a
    // crash at this point would leave it, never half-written by a process still running.
    await this.awaitCommit().catch(() => {});
    await this.shutdown();
    return { status: "aborted", epoch: this.w.rt.epoch };
  }

  /** Best-effort cleanup after a failure or abort: the first error stays the reported one. */
  protected async shutdown(): Promise<void> {
    const { inputs, outputs, steps, channels } = this.w;
    await this.awaitCommit().catch(() => {});
    for (const out of outputs) {
      try {
        await out.settle();
        await out.close();
      } catch {
        // Already failing or aborting.
      }
    }
    for (const node of steps) {
      try {
        await node.close?.();
      } catch {
        // Already failing or aborting.
      }
    }
    for (const inp of inputs) await inp.shutdown();
    for (const ch of channels) ch.unsubscribe();
  }

  /** Lets timers, I/O and other tasks run. */
  protected async yieldToEventLoop(): Promise<void> {
    if (performance.now() - this.timersRanAt > TIMER_YIELD_EVERY_MS) await timerTask();
    else await macrotask();
    this.sliceStart = performance.now();
  }

  /** Keeps a zero-delay timer pending that records when the host last ran timers. */
  protected armHeartbeat(): void {
    if (this.heartbeat !== undefined) return;
    this.heartbeat = setTimeout(() => {
      this.heartbeat = undefined;
      this.timersRanAt = performance.now();
    }, 0);
  }

  protected sampleNow(): number {
    const t = this.w.rt.clock.now();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  protected aborted(): boolean {
    return this.w.inputs.some((i) => i.aborted);
  }

  protected inputsDone(): boolean {
    return this.w.inputs.every((i) => i.done);
  }

  /** True when no node holds in-flight asynchronous work. */
  protected idle(): boolean {
    // Sink writes are not counted here: an epoch end awaits them (`settle`) instead.
    for (const n of this.w.steps) if (n.pending !== undefined && n.pending() > 0) return false;
    return true;
  }

  protected anyFull(): boolean {
    for (const n of this.w.nodes) if (n.isFull?.()) return true;
    return false;
  }

  protected nextWake(allowPoll: boolean): number {
    let at = Number.POSITIVE_INFINITY;
    for (const inp of this.w.inputs) {
      const t = inp.nextWake(allowPoll);
      if (t < at) at = t;
    }
    for (const n of this.w.nodes) {
      const t = n.nextWake?.();
      if (t !== undefined && t < at) at = t;
    }
    return at;
  }

  /** Sleeps until `deadline` on the run's clock, or until something wakes the worker. */
  protected async sleep(deadline: number): Promise<void> {
    const { rt } = this.w;
    if (deadline <= this.lastNow) return;
    const wake = rt.waitForWake();
    if (deadline === Number.POSITIVE_INFINITY) {
      await wake;
      return;
    }
    const ac = new AbortController();
    await Promise.race([wake, rt.clock.sleepUntil(deadline, ac.signal)]);
    ac.abort();
    rt.cancelWait();
  }
}

/**
 * A graceful stop's end on one worker: closes sinks, sources and nodes as at EOF but without
 * completing any stream (no `onEof`, no window closes); a failure meanwhile rejects the run.
 */
export async function closeStopped(w: BuiltWorker): Promise<RunSummary> {
  const { rt, inputs, outputs, steps, channels } = w;
  for (const out of outputs) await out.close();
  for (const inp of inputs) await inp.close();
  for (const node of steps) await node.close?.();
  for (const ch of channels) ch.unsubscribe();
  if (rt.failure !== undefined) throw rt.failure;
  return { status: "stopped", epoch: rt.epoch };
}
