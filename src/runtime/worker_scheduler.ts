/**
 * The scheduler of one worker among several (`run`'s `workers`), and the messages it
 * exchanges with the coordinator on the main thread (`parallel.ts`).
 *
 * It runs activations like {@linkcode Scheduler}, but epochs are the coordinator's: the
 * worker reports once per epoch that it has work (`busy`) and once that its inputs and
 * exchanges reached EOF (`eof`); the coordinator ends an epoch for all workers at once:
 *
 * 1. `probe` (repeated): the worker stops polling its sources and runs activations at a
 *    frozen `now` until nothing moves (batches in flight taken, asynchronous steps drained,
 *    every arrived exchange batch delivered, sink writes settled), then replies `drained`
 *    with how many exchange messages it sent and delivered so far. After replying it does
 *    nothing until the coordinator's next message (arriving batches wait), so when the sums
 *    of one round are equal no batch of the epoch is on its way anywhere; otherwise the
 *    coordinator probes again.
 * 2. `snapshot`: the worker collects its snapshots (`collectSnapshots`) and sends them.
 * 3. `next` (the coordinator committed the epoch), `finish` (EOF everywhere), `stop` (the
 *    graceful stop) or `abort`.
 *
 * @module
 */
import type { RunSummary } from "./scheduler.ts";
import { closeStopped, Scheduler, type SchedulerOptions } from "./scheduler.ts";
import type { BuiltWorker } from "./build.ts";
import { collectSnapshots, type ListedEnd, listedEnds, type SnapshotTarget } from "./checkpoint.ts";
import type { SnapshotKind } from "../recovery/segment.ts";
import { stateKey } from "../recovery/restored.ts";

/**
 * Set on a worker's global object while it imports the flow's module, to a function making
 * the error with which `run` refuses to start there (a module's unguarded top-level run would
 * run again in every worker); the message lives here, out of a single-worker bundle of `run`.
 * Defined here, not in `worker_main.ts`, whose top level installs the worker's message handler
 * and must only run in a worker.
 */
export const IN_WORKER: unique symbol = Symbol.for("weir.inWorker");

/** What {@linkcode IN_WORKER} holds while a worker imports `module`. */
export function refuseRunIn(module: string): (flowId: string) => Error {
  return (flowId) =>
    new Error(
      `run() was called while a weir worker imported ${module} to build flow ` +
        `"${flowId}"; guard the module's runs with if (import.meta.main)`,
    );
}

/** A message from the coordinator to a worker. */
export type ToWorker =
  | { readonly t: "start" }
  | { readonly t: "probe" }
  | { readonly t: "snapshot" }
  | { readonly t: "next" }
  | { readonly t: "finish" }
  | { readonly t: "stop" }
  | { readonly t: "abort" };

/** A message from a worker to the coordinator. */
export type FromWorker =
  | { readonly t: "opened"; readonly ends: ListedEnd[] }
  | { readonly t: "busy" }
  | { readonly t: "eof" }
  | { readonly t: "drained"; readonly sent: number; readonly delivered: number }
  | { readonly t: "snap"; readonly entries: unknown[] }
  | { readonly t: "out"; readonly step: string; readonly items: unknown[] }
  | { readonly t: "aborted" }
  | { readonly t: "done"; readonly summary: RunSummary }
  | { readonly t: "error"; readonly error: SerializedError };

/** A worker's failure, as it crosses to the main thread. */
export interface SerializedError {
  /** Set for a DataflowError. */
  readonly stepId?: string;
  readonly what: string;
  readonly key?: string;
  readonly partition?: string;
  readonly message: string;
  readonly cause?: unknown;
}

/** Snapshot entries as a flat array: `1, kind, stepId` / `2, key, value` / `3, key`. */
export const ENTRY_STEP = 1, ENTRY_PUT = 2, ENTRY_DEL = 3;

/** Records snapshot entries into a flat array (one message per worker and epoch). */
export function entryRecorder(entries: unknown[]): SnapshotTarget {
  return {
    step: (kind: SnapshotKind, stepId: string) => void entries.push(ENTRY_STEP, kind, stepId),
    put: (key: string, value: unknown) => void entries.push(ENTRY_PUT, key, value),
    del: (key: string) => void entries.push(ENTRY_DEL, key, undefined),
  };
}

/** The coordinator's messages, queued until the worker's loop takes them. */
export class Control {
  private readonly queue: ToWorker[] = [];
  constructor(private readonly wake: () => void) {}

  push(m: ToWorker): void {
    this.queue.push(m);
    this.wake();
  }

  take(): ToWorker | undefined {
    return this.queue.shift();
  }
}

/** Drives one worker of several; see the module's description. */
export class WorkerScheduler extends Scheduler {
  constructor(
    w: BuiltWorker,
    opts: SchedulerOptions,
    private readonly ctl: Control,
    private readonly post: (m: FromWorker) => void,
    /** Recovery is on: snapshots are collected at each epoch end. */
    private readonly recovery: boolean,
  ) {
    super(w, opts);
  }

  override async run(): Promise<RunSummary> {
    const { rt, inputs, outputs } = this.w;
    try {
      const resume = this.opts.resume;
      for (const inp of inputs) await inp.open(resume?.get(stateKey("source", inp.step.id)));
      for (const out of outputs) await out.open(resume?.get(stateKey("sink", out.step.id)));
      this.post({ t: "opened", ends: listedEnds(this.w) });
      const first = await this.nextMessage();
      if (first.t === "abort") return await this.abort();
      this.sliceStart = this.timersRanAt = performance.now();
      let busy = false;
      let eofSent = false;
      let woke = true;
      for (;;) {
        this.armHeartbeat();
        if (performance.now() - this.sliceStart > 10) await this.yieldToEventLoop();
        const m = this.ctl.take();
        if (m !== undefined) {
          if (m.t === "abort") return await this.abort();
          const end = await this.endEpochTogether();
          if (end !== undefined) return end;
          // Work done while the epoch ended belongs to it: like the single scheduler, the
          // next epoch counts only what happens from now on (else, with epochInterval 0,
          // idle workers would end empty epochs forever).
          busy = false;
          woke = false;
          continue;
        }
        const now = this.sampleNow();
        const allowPoll = !this.anyFull();
        const before = this.activity();
        const pushed = this.activate(now, allowPoll);
        if (rt.failure !== undefined) throw rt.failure;
        if (this.aborted()) {
          this.post({ t: "aborted" });
          return await this.abort();
        }
        if (!eofSent && this.inputsDone() && this.idle() && this.exchangesDone()) {
          eofSent = true;
          this.post({ t: "eof" });
        }
        const moved = pushed > 0 || this.activity() !== before;
        if ((moved || woke) && !busy) {
          busy = true;
          this.post({ t: "busy" });
        }
        woke = false;
        if (moved) continue;
        const sleptFrom = performance.now();
        await this.sleep(this.nextWake(allowPoll));
        woke = true;
        if (this.timersRanAt >= sleptFrom) this.sliceStart = performance.now();
      }
    } catch (err) {
      await this.shutdown();
      throw rt.failure ?? err;
    } finally {
      clearTimeout(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /** Items that entered or left this worker's exchanges so far. */
  private activity(): number {
    let n = 0;
    for (const x of this.w.exchanges) n += x.moved;
    return n;
  }

  private exchangesDone(): boolean {
    for (const x of this.w.exchanges) if (!x.done) return false;
    return true;
  }

  /** Waits for the coordinator's next message (data arriving meanwhile waits too). */
  private async nextMessage(): Promise<ToWorker> {
    const { rt } = this.w;
    for (;;) {
      const m = this.ctl.take();
      if (m !== undefined) return m;
      rt.clearWake();
      const again = this.ctl.take();
      if (again !== undefined) return again;
      await rt.waitForWake();
      if (rt.failure !== undefined) throw rt.failure;
    }
  }

  /**
   * An epoch end led by the coordinator (the first `probe` was just taken): drains for each
   * probe, snapshots when asked, and returns how the run ends, or undefined to go on with
   * the next epoch.
   */
  private async endEpochTogether(): Promise<RunSummary | undefined> {
    const frozen = this.sampleNow();
    // Held partial aggregates belong to this epoch: send them at the next flush.
    for (const x of this.w.exchanges) x.draining = true;
    try {
      return await this.endEpochSteps(frozen);
    } finally {
      for (const x of this.w.exchanges) x.draining = false;
    }
  }

  private async endEpochSteps(frozen: number): Promise<RunSummary | undefined> {
    const { rt, inputs, outputs, nodes } = this.w;
    const hub = rt.hub!;
    let m: ToWorker = { t: "probe" };
    for (;;) {
      switch (m.t) {
        case "probe": {
          for (;;) {
            const before = this.activity();
            const pushed = this.activate(frozen, false);
            if (rt.failure !== undefined) throw rt.failure;
            if (this.aborted()) {
              this.post({ t: "aborted" });
              return await this.abort();
            }
            if (pushed > 0 || this.activity() !== before) continue;
            if (inputs.some((i) => i.inFlight) || !this.idle()) {
              await this.sleep(this.nextWake(false));
              continue;
            }
            if (hub.waiting > 0) continue;
            for (const out of outputs) await out.settle();
            if (rt.failure !== undefined) throw rt.failure;
            if (hub.waiting > 0) continue;
            break;
          }
          this.post({ t: "drained", sent: hub.sent, delivered: hub.delivered });
          break;
        }
        case "snapshot": {
          const entries: unknown[] = [];
          if (this.recovery) {
            collectSnapshots(this.w, entryRecorder(entries), this.opts.flowId);
          }
          this.post({ t: "snap", entries });
          break;
        }
        case "next":
          for (const node of nodes) node.epochEnded?.(rt.epoch);
          rt.epoch++;
          return undefined;
        case "finish":
          for (const node of nodes) node.epochEnded?.(rt.epoch);
          await this.finish();
          return { status: "eof", epoch: rt.epoch };
        case "stop":
          for (const node of nodes) node.epochEnded?.(rt.epoch);
          return await this.stopTogether();
        case "abort":
          return await this.abort();
        case "start":
          throw new Error("Internal error: a worker was started twice");
      }
      m = await this.nextMessage();
    }
  }

  /** The graceful stop on this worker: closes sinks, sources and steps without EOF. */
  private stopTogether(): Promise<RunSummary> {
    return closeStopped(this.w);
  }
}
