/**
 * The mutable per-worker state every step of a built graph shares: the activation flag and
 * time, the epoch, the first failure, and the scheduler's wake-up signal.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { attributeError, DataflowError } from "../errors.ts";
import type { StepContext } from "../dataflow/op.ts";
import type { ExchangeHub } from "./exchange.ts";

/** Per-worker runtime state; one per built worker. */
export class WorkerRuntime {
  /** True while the scheduler pushes items; emitting outside an activation is an error. */
  inActivation = false;
  /** The current activation's time. */
  now: number;
  /** The current epoch. */
  epoch = 1;
  /** The first failure, which stops the run. */
  failure: DataflowError | undefined = undefined;
  /** With several workers: the links to the other workers (set before the build). */
  hub: ExchangeHub | undefined = undefined;
  /** With several workers: posts a message to the coordinator on the main thread. */
  toMain: ((message: unknown) => void) | undefined = undefined;
  private waker: (() => void) | undefined = undefined;
  private woken = false;

  constructor(
    readonly clock: Clock,
    readonly workerIndex: number,
    readonly workerCount: number,
  ) {
    this.now = clock.now();
  }

  /** Records the first failure and wakes the scheduler. */
  fail(error: DataflowError): void {
    if (this.failure === undefined) this.failure = error;
    this.wake();
  }

  /** Called when an item appears outside an activation: an asynchronous RxJS operator. */
  emittedOutsideActivation(stepId: string): void {
    this.fail(
      new DataflowError(
        stepId,
        "Emitted an item outside an activation; asynchronous RxJS operators (delay, " +
          "bufferTime, mergeMap over promises…) are not valid steps, use mapAsync instead",
      ),
    );
  }

  /** Asks the scheduler for an activation as soon as possible. */
  wake(): void {
    this.woken = true;
    const w = this.waker;
    if (w !== undefined) {
      this.waker = undefined;
      w();
    }
  }

  /** Resolves on the next `wake()` (at once if one happened since the last activation). */
  waitForWake(): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      this.waker = resolve;
    });
  }

  /** Drops the pending `waitForWake` after the scheduler woke up for another reason. */
  cancelWait(): void {
    this.waker = undefined;
  }

  /** Called at the start of each activation, which handles whatever caused a wake-up. */
  clearWake(): void {
    this.woken = false;
  }

  /** The context handed to the step `stepId` at build time. */
  stepContext(stepId: string, upstreamId: string): StepContext {
    // deno-lint-ignore no-this-alias
    const rt = this;
    return {
      stepId,
      upstreamId,
      workerIndex: rt.workerIndex,
      workerCount: rt.workerCount,
      clock: rt.clock,
      now: () => rt.now,
      epoch: () => rt.epoch,
      fail: (error, details = {}) =>
        rt.fail(attributeError(error, stepId, details.what, { key: details.key })),
      wake: () => rt.wake(),
    };
  }
}
