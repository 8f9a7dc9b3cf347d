/**
 * The coordinator of a run on several workers (`run(flow, { workers: N, module })`), on the
 * main thread.
 *
 * It opens the recovery store and replays it, routing each restored key to the worker that
 * owns it by the exchange's hash (so a run resumes on any number of workers), starts N Web
 * Workers (`worker_main.ts`) with a `MessagePort` between every two of them, and leads the
 * epochs: it ends an epoch for all workers at once (see `worker_scheduler.ts` for the
 * protocol), gathers every worker's snapshots into one delta and commits it, and only then
 * lets the workers go on. EOF comes when every worker's inputs and exchanges reached EOF.
 * The first failure of any worker stops them all.
 *
 * Sinks that declare `mainThread` (TestingSink) are written here: workers send their batches.
 *
 * @module
 */
import { isFixedPartitionedSource } from "../io/inputs.ts";
import {
  type DynamicSink,
  isFixedPartitionedSink,
  type StatelessSinkPartition,
} from "../io/outputs.ts";
import type { Dataflow } from "../dataflow/dataflow.ts";
import type { StepRecord } from "../dataflow/graph.ts";
import { DataflowError } from "../errors.ts";
import type { RecoveryConfig } from "../recovery/config.ts";
import { RecoveryStore } from "../recovery/store.ts";
import { WallClock } from "../clock.ts";
import { type ListedEnd, Restorer, type StateTarget } from "./checkpoint.ts";
import { keyOwner } from "./exchange.ts";
import type { RunOptions } from "./run.ts";
import type { RunSummary } from "./scheduler.ts";
// Only the type: worker_main.ts's top level must run in a worker, never here.
import type { WorkerInit } from "./worker_main.ts";
import {
  ENTRY_DEL,
  ENTRY_PUT,
  ENTRY_STEP,
  type FromWorker,
  type SerializedError,
  type ToWorker,
} from "./worker_scheduler.ts";
import type { SnapshotKind } from "../recovery/segment.ts";
import { isPromiseLike } from "../promise_like.ts";

/**
 * Where each worker finds the flow: a module URL and the export to read or call (undefined:
 * the one Dataflow export with the flow's id).
 */
export interface FlowModule {
  readonly module: string;
  readonly export: string | undefined;
  readonly args?: readonly unknown[];
}

/** What the coordinator needs besides the flow. */
export interface ParallelOptions {
  readonly workers: number;
  readonly epochInterval: number;
  readonly recovery?: RecoveryConfig;
  readonly signal?: AbortSignal;
}

/** Restore ops per worker: `op, stepId, key, snapshot` with op 1 (put) or 2 (delete). */
const RESTORE_PUT = 1, RESTORE_DEL = 2;

/** A message from worker `w`, or a tick (`w` -1: an epoch deadline, the stop). */
interface Event {
  readonly w: number;
  readonly m: FromWorker | { readonly t: "tick" };
}

/**
 * `run(flow, options)` with `options.workers` > 1, after `run`'s own checks: refuses what
 * several workers cannot do yet (a clock, an exactly-once sink among `committers`,
 * observing), finds the flow's module and runs the coordinator. Lives here, not in `run.ts`,
 * so a single-worker (browser) bundle of `run` holds none of it.
 */
export async function runOnWorkers(
  flow: Dataflow,
  options: RunOptions,
  epochInterval: number,
  committers: readonly StepRecord[],
): Promise<RunSummary> {
  const workers = options.workers!;
  if (options.clock !== undefined) {
    throw new RangeError(
      `A clock cannot be passed with workers: ${workers}; each worker reads the wall clock`,
    );
  }
  if (committers.length > 0) {
    throw new RangeError(
      `An exactly-once sink (EpochCommitter) cannot run on ${workers} workers yet; step ` +
        `"${committers[0]!.id}" commits its epochs itself. Run the flow on one worker, or ` +
        `write that sink at least once`,
    );
  }
  const given = (["onProgress", "metrics", "tracer"] as const)
    .filter((k) => options[k] !== undefined).join("/");
  if (given !== "") {
    throw new RangeError(
      `onProgress/metrics/tracer are not supported with workers: ${workers} yet (got ${given}); ` +
        `observe the flow on one worker`,
    );
  }
  return await runParallel(flow, flowModule(flow, options), {
    workers,
    epochInterval,
    recovery: options.recovery,
    signal: options.signal,
  });
}

/** Where the workers find the flow: `options.module` and the export. */
function flowModule(flow: Dataflow, options: RunOptions): FlowModule {
  const { module, args } = options;
  if (module === undefined) {
    throw new TypeError(
      `Running flow "${flow.flowId}" on ${options.workers} workers needs options.module: the ` +
        `URL of the module exporting the flow (import.meta.url), which every worker imports`,
    );
  }
  let url: string;
  try {
    url = new URL(module).href;
  } catch (err) {
    throw new TypeError(
      `options.module must be a module URL such as import.meta.url, got ${JSON.stringify(module)}`,
      { cause: err },
    );
  }
  // The module is not imported here: the caller may be that module, still evaluating (a
  // top-level `await run(...)`), and importing it would wait for itself. Each worker finds the
  // export instead (see worker_main.ts).
  return { module: url, export: options.export, args };
}

/** Runs `flow` on `options.workers` Web Workers; see the module's description. */
export async function runParallel(
  flow: Dataflow,
  where: FlowModule,
  options: ParallelOptions,
): Promise<RunSummary> {
  const count = options.workers;
  const { signal, recovery } = options;
  if ((recovery?.classes?.length ?? 0) > 0) {
    throw new RangeError(
      `recovery.classes cannot be used with workers: ${count}: snapshots cross threads by ` +
        `structured clone, which loses their classes; run on 1 worker, or store plain values`,
    );
  }
  if (signal?.aborted) return { status: "stopped", epoch: 1 };
  const clock = new WallClock();
  const store = recovery === undefined
    ? undefined
    : await RecoveryStore.open(recovery, flow.flowId, clock.now());
  const workers: Worker[] = [];
  try {
    // Replay the store, each key to its owner.
    const state: unknown[][] = Array.from({ length: count }, () => []);
    const resets = new Set<string>();
    let restorer: Restorer | undefined = undefined;
    if (store !== undefined) {
      const stateful = new Map<string, StateTarget>();
      for (const s of flow.steps) {
        if (s.kind !== "node" || s.spec.exchange !== "key") continue;
        const id = s.id;
        stateful.set(id, {
          restore(key, snap) {
            const deleted = typeof snap === "symbol";
            state[keyOwner(key, count)]!.push(
              deleted ? RESTORE_DEL : RESTORE_PUT,
              id,
              key,
              deleted ? undefined : snap,
            );
          },
          resetState() {
            resets.add(id);
            for (let w = 0; w < count; w++) {
              const ops = state[w]!;
              const kept: unknown[] = [];
              for (let i = 0; i < ops.length; i += 4) {
                if (ops[i + 1] !== id) kept.push(ops[i], ops[i + 1], ops[i + 2], ops[i + 3]);
              }
              state[w] = kept;
            }
          },
        });
      }
      restorer = new Restorer({
        stateful,
        fixedSources: flow.steps.flatMap((s) =>
          s.kind === "input" && isFixedPartitionedSource(s.source) ? [s.id] : []
        ),
        fixedSinks: flow.steps.flatMap((s) =>
          s.kind === "output" && isFixedPartitionedSink(s.sink) ? [s.id] : []
        ),
      });
      await store.loadInto(restorer);
      restorer.checkOrphans(store, recovery!.dropOrphans === true);
    }
    const firstEpoch = (store?.lastEpoch ?? 0) + 1;

    // Events from the workers (and ticks: epoch deadlines, the stop), in arrival order.
    const events: Event[] = [];
    let waiting: (() => void) | undefined = undefined;
    const push = (e: Event) => {
      events.push(e);
      const w = waiting;
      waiting = undefined;
      w?.();
    };
    const nextEvent = async (): Promise<Event> => {
      while (events.length === 0) await new Promise<void>((r) => (waiting = r));
      return events.shift()!;
    };
    const onStop = () => push({ w: -1, m: { t: "tick" } });
    signal?.addEventListener("abort", onStop);

    // Sinks written on the main thread.
    const mainSinks = new Map<string, MainSink>();
    for (const s of flow.steps) {
      if (s.kind !== "output" || isFixedPartitionedSink(s.sink)) continue;
      const sink = s.sink as DynamicSink<unknown>;
      if (sink.mainThread === true) mainSinks.set(s.id, new MainSink(s.id, sink, clock));
    }

    const url = new URL("./worker_main.ts", import.meta.url).href;
    const channels: MessagePort[][] = Array.from({ length: count }, () => new Array(count));
    for (let i = 0; i < count; i++) {
      for (let j = i + 1; j < count; j++) {
        const ch = new MessageChannel();
        channels[i]![j] = ch.port1;
        channels[j]![i] = ch.port2;
      }
    }
    for (let i = 0; i < count; i++) {
      const worker = new Worker(url, { type: "module", name: `weir-${i}` });
      workers.push(worker);
      worker.onmessage = (ev: MessageEvent) => push({ w: i, m: ev.data as FromWorker });
      worker.onerror = (ev: ErrorEvent) => {
        ev.preventDefault();
        push({ w: i, m: { t: "error", error: { what: "", message: ev.message } } });
      };
      const links = channels[i]!;
      const init: WorkerInit = {
        t: "init",
        module: where.module,
        export: where.export,
        args: where.args,
        flowId: flow.flowId,
        index: i,
        count,
        epochInterval: options.epochInterval,
        links: [...links],
        recovery: store !== undefined,
        firstEpoch,
        state: state[i]!,
        resets: [...resets],
        positions: restorer?.positions,
      };
      worker.postMessage(init, links.filter((p) => p !== undefined));
    }
    const send = (m: ToWorker) => {
      for (const w of workers) w.postMessage(m);
    };

    /** Workers whose run ended (they reported done or their failure). */
    const ended = new Set<number>();
    let eofs = 0;
    let busy = false;
    /** Handles an event that is not an answer the coordinator waits for. */
    const handle = async (e: Event): Promise<"aborted" | undefined> => {
      const m = e.m;
      switch (m.t) {
        case "tick":
          return;
        case "busy":
          busy = true;
          return;
        case "eof":
          eofs++;
          return;
        case "out":
          await mainSinks.get(m.step)!.write(m.items);
          return;
        case "aborted":
          return "aborted";
        case "error":
          ended.add(e.w);
          throw rebuild(m.error, e.w);
        default:
          throw new Error(`Internal error: unexpected message ${m.t} from worker ${e.w}`);
      }
    };
    /** Collects one answer of type `t` from every worker, handling other events meanwhile. */
    const gather = async <T extends FromWorker["t"]>(
      t: T,
    ): Promise<Array<Extract<FromWorker, { t: T }>> | "aborted"> => {
      const got: Array<Extract<FromWorker, { t: T }>> = new Array(count);
      let n = 0;
      while (n < count) {
        const e = await nextEvent();
        if (e.m.t === t) {
          got[e.w] = e.m as Extract<FromWorker, { t: T }>;
          n++;
        } else if (await handle(e) === "aborted") return "aborted";
      }
      return got;
    };
    /** The previous epoch's commit, still being written. */
    let committing: Promise<void> | undefined = undefined;
    let commitError: unknown = undefined;
    const commitFailure = () =>
      new DataflowError(flow.flowId, "Commit failed", { cause: commitError });
    const awaitCommit = async () => {
      const c = committing;
      committing = undefined;
      await c;
      if (commitError !== undefined) throw commitFailure();
    };
    const aborted = async (): Promise<RunSummary> => {
      send({ t: "abort" });
      await settleWorkers(workers.length, ended, nextEvent);
      // A commit in flight completes (or fails) first, as a crash at this point would leave it.
      await committing;
      // Left as a crash would leave it: the epoch in progress is not committed.
      await store?.close();
      return { status: "aborted", epoch };
    };

    let epoch = firstEpoch;
    const opened = await gather("opened");
    if (opened === "aborted") return await aborted();
    if (store !== undefined) {
      const ends: ListedEnd[] = opened[0]!.ends;
      restorer!.checkPartitions(ends, store, recovery!.dropOrphans === true);
    }
    send({ t: "start" });
    let deadline = clock.now() + options.epochInterval;
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const arm = () => {
      if (options.epochInterval > 0) {
        timer = setTimeout(
          () => push({ w: -1, m: { t: "tick" } }),
          Math.max(0, deadline - clock.now()),
        );
      }
    };
    arm();
    try {
      for (;;) {
        const e = await nextEvent();
        if (await handle(e) === "aborted") return await aborted();
        if (commitError !== undefined) throw commitFailure();
        const stopping = signal?.aborted === true;
        const final = eofs === count;
        const due = options.epochInterval > 0 ? clock.now() >= deadline : busy;
        if (!final && !stopping && !due) continue;
        clearTimeout(timer);
        // End the epoch on every worker: probe until nothing is on its way.
        // One balanced round suffices: a worker replies only at a local fixpoint with nothing
        // undelivered, and does nothing after its reply until the next message from here (a
        // batch arriving meanwhile waits). So every message counted as delivered was sent
        // before its sender replied, and equal sums mean that nothing sent is still in flight
        // and no worker can be woken by one: the epoch's work is done everywhere.
        for (;;) {
          send({ t: "probe" });
          const replies = await gather("drained");
          if (replies === "aborted") return await aborted();
          let sent = 0, delivered = 0;
          for (const r of replies) {
            sent += r.sent;
            delivered += r.delivered;
          }
          if (sent === delivered) break;
        }
        send({ t: "snapshot" });
        const snaps = await gather("snap");
        if (snaps === "aborted") return await aborted();
        for (const s of mainSinks.values()) await s.settle();
        if (store !== undefined) {
          const seg = store.beginEpoch();
          for (const { entries } of snaps) {
            for (let i = 0; i < entries.length; i += 3) {
              const op = entries[i];
              if (op === ENTRY_STEP) {
                seg.step(entries[i + 1] as SnapshotKind, entries[i + 2] as string);
              } else if (op === ENTRY_PUT) seg.put(entries[i + 1] as string, entries[i + 2]);
              else if (op === ENTRY_DEL) seg.del(entries[i + 1] as string);
            }
          }
          // The write (and fsync) proceeds while the next epoch runs, as with one worker: a
          // crash meanwhile resumes from the previous commit, whose sink positions predate
          // anything the next epoch wrote. The next commit, the end and an abort wait for it.
          await awaitCommit();
          committing = store.commit(epoch, seg, clock.now()).then(() => {}, (err) => {
            commitError ??= err;
            push({ w: -1, m: { t: "tick" } });
          });
        }
        const end = eofs === count ? "finish" : stopping ? "stop" : undefined;
        if (end === undefined) {
          send({ t: "next" });
          epoch++;
          busy = false;
          deadline = clock.now() + options.epochInterval;
          arm();
          continue;
        }
        // The last snapshot is durable before the workers close their sinks.
        await awaitCommit();
        send({ t: end });
        const done = await gather("done");
        if (done === "aborted") return await aborted();
        for (const s of mainSinks.values()) await s.close();
        const summary: RunSummary = { status: end === "finish" ? "eof" : "stopped", epoch };
        if (store !== undefined) {
          await store.close();
          return { ...summary, resumedFrom: firstEpoch - 1 };
        }
        return summary;
      }
    } catch (err) {
      send({ t: "abort" });
      await settleWorkers(workers.length, ended, nextEvent).catch(() => {});
      await committing;
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onStop);
    }
  } catch (err) {
    await store?.close().catch(() => {});
    throw err;
  } finally {
    for (const w of workers) w.terminate();
  }
}

/**
 * Waits (at most 2 s) for every worker not in `ended` to report the end of its run after an
 * abort (its sources and sinks closed, best effort), so that terminating it loses nothing.
 */
async function settleWorkers(
  count: number,
  ended: Set<number>,
  nextEvent: () => Promise<Event>,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined = undefined;
  const timeout = new Promise<"late">((r) => timer = setTimeout(() => r("late"), 2000));
  try {
    while (ended.size < count) {
      const e = await Promise.race([nextEvent(), timeout]);
      if (e === "late") return;
      if (e.m.t === "done" || e.m.t === "error") ended.add(e.w);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A worker's failure, rebuilt on the main thread with the worker's index. */
function rebuild(e: SerializedError, worker: number): Error {
  if (e.stepId !== undefined) {
    return new DataflowError(e.stepId, e.what, {
      key: e.key,
      partition: e.partition,
      worker,
      cause: e.cause,
    });
  }
  const hint = /Requires (read|import) access/.test(e.message)
    ? ` (a worker loads weir's worker_main.ts and the flow's module: grant ${
      e.message.includes("import") ? "import" : "read"
    } access to both)`
    : "";
  return new Error(`Worker ${worker} failed: ${e.message}${hint}`, { cause: e.cause });
}

/** A `mainThread` sink: one partition on the main thread, written with every worker's batches. */
class MainSink {
  private part: StatelessSinkPartition<unknown> | undefined = undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly stepId: string,
    private readonly sink: DynamicSink<unknown>,
    private readonly clock: WallClock,
  ) {}

  async write(items: unknown[]): Promise<void> {
    try {
      if (this.part === undefined) {
        this.part = await this.sink.build(this.stepId, 0, 1, {
          clock: this.clock,
          workerIndex: 0,
          workerCount: 1,
        });
      }
      const r = this.part.writeBatch(items);
      if (isPromiseLike<void>(r)) this.tail = this.tail.then(() => r);
    } catch (err) {
      throw new DataflowError(this.stepId, "Failed to write a batch", { cause: err });
    }
  }

  async settle(): Promise<void> {
    try {
      await this.tail;
    } catch (err) {
      throw new DataflowError(this.stepId, "Failed to write a batch", { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.settle();
    try {
      await this.part?.close?.();
    } catch (err) {
      throw new DataflowError(this.stepId, "Failed to close", { cause: err });
    }
  }
}
