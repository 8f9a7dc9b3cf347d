/**
 * `run`: executes a dataflow.
 *
 * @module
 */
import { type Clock, WallClock } from "../clock.ts";
import type { Dataflow } from "../dataflow/dataflow.ts";
import type { RecoveryConfig } from "../recovery/config.ts";
import { RecoveryError } from "../recovery/errors.ts";
import { RecoveryStore } from "../recovery/store.ts";
import { DataflowError } from "../errors.ts";
import { type EpochCommitter, isEpochCommitter } from "../io/outputs.ts";
import { buildWorker, type BuiltWorker, validateFlow } from "./build.ts";
import { listedEnds, Restorer, workerLayout } from "./checkpoint.ts";
import type { StepRecord } from "../dataflow/graph.ts";
import { type RunSummary, Scheduler } from "./scheduler.ts";
import { WorkerRuntime } from "./worker_runtime.ts";
import type {
  MetricsServer,
  MetricsServerOptions,
  Monitor,
  RunProgress,
  Tracer,
} from "../observe/monitor.ts";

export type { RunSummary };

/** Options of {@linkcode run}. */
export interface RunOptions {
  /**
   * Length of an epoch in milliseconds (default 10 000). Epochs are the unit of backpressure
   * and, with recovery, of snapshots. 0 ends an epoch after every activation.
   */
  readonly epochInterval?: number;
  /** The clock every time-based part of the run uses (default: the wall clock). */
  readonly clock?: Clock;
  /**
   * How many workers run the graph (default 1: the calling thread, nothing spawned). With
   * N > 1, N Web Workers each build the flow from {@linkcode RunOptions.module} and run the
   * whole graph; items move between workers only where needed: to the worker owning the
   * key before each keyed stateful step (a stable hash of the key), to a fixed sink
   * partition's owner, and round-robin at `redistribute`. Each fixed source partition is
   * read by one worker (round-robin over the sorted names); a dynamic source is built on
   * every worker with its index and the count. Epochs end on all workers together, and with
   * recovery an epoch commits once every worker's snapshots are in; a run may resume on a
   * different number of workers. Items of one key keep their order; across keys and
   * workers, output order is not defined. With N > 1, `clock` cannot be set (each worker
   * reads the wall clock) and sinks write on their worker, except those declaring
   * `mainThread` (`TestingSink`), which are written on the calling thread.
   *
   * @example Two workers (the flow is exported by a module each worker imports)
   * ```ts ignore
   * import { countFinal, Dataflow, run } from "@weir/weir";
   * import { TestingSink, TestingSource } from "@weir/weir/testing";
   * import { assertEquals } from "@std/assert";
   *
   * export const out: [string, number][] = [];
   * export const flow = new Dataflow("count");
   * flow.input("inp", new TestingSource(["a", "b", "a"]))
   *   .pipe(countFinal("count", (w: string) => w))
   *   .output("out", new TestingSink(out));
   *
   * if (import.meta.main) {
   *   await run(flow, { workers: 2, module: import.meta.url });
   *   assertEquals(out.sort(), [["a", 2], ["b", 1]]);
   * }
   * ```
   */
  readonly workers?: number;
  /**
   * With `workers` > 1: the URL of the module that exports the flow (usually
   * `import.meta.url`). Each worker imports it and reads the export, so the module must not
   * start runs when imported: guard them with `if (import.meta.main)` (a `run` started
   * while a worker imports the module is refused).
   */
  readonly module?: string | URL;
  /**
   * With `workers` > 1: the module's export holding the flow, or a function returning it
   * (called with {@linkcode RunOptions.args} in every worker). Default: the export that is
   * the very `flow` passed to `run`.
   */
  readonly export?: string;
  /** With `workers` > 1 and an `export` that is a function: its arguments (cloneable). */
  readonly args?: readonly unknown[];
  /**
   * Snapshot every epoch to a store and resume from its last committed epoch (see
   * {@linkcode RecoveryConfig}). Off by default.
   */
  readonly recovery?: RecoveryConfig;
  /**
   * Stops the run gracefully when it aborts, e.g. on Ctrl-C (the `weir` CLI passes one
   * that SIGINT and SIGTERM abort). The run then:
   * 1. polls no source partition again (a batch already in flight is taken and processed:
   *    its partition's position already counts it);
   * 2. finishes the current epoch: asynchronous steps (mapAsync) drain, sinks write, and
   *    with recovery the epoch is committed — without waiting for the epoch's deadline;
   * 3. closes sinks and sources as at an ordinary end, but without EOF: no `onEof`, no
   *    window closes;
   * 4. resolves `{ status: "stopped" }`.
   *
   * A stop is a pause: a run resumed from the store continues exactly after the stopped
   * one, nothing lost, nothing repeated. That is the difference from `"aborted"` (a source's
   * `AbortExecution`, a simulated crash), which does not finish or commit its epoch, so the
   * resumed run replays it. A signal aborted before the run starts stops it before anything
   * is read or committed (the store is still opened and checked). A failure while the
   * stop's epoch ends rejects the run as usual. The listener added to the signal is removed
   * when the run ends.
   *
   * @example Stopping after the second item
   * ```ts
   * import { Dataflow, inspect, run } from "@weir/weir";
   * import { TestingSink, TestingSource } from "@weir/weir/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const stop = new AbortController();
   * const out: number[] = [];
   * const flow = new Dataflow("stop_demo");
   * flow.input("inp", new TestingSource([1, 2, 3, 4]))
   *   .pipe(inspect("watch", (_id, x: number) => x === 2 && stop.abort()))
   *   .output("out", new TestingSink(out));
   * const summary = await run(flow, { signal: stop.signal });
   * assertEquals(summary.status, "stopped");
   * assertEquals(out, [1, 2]); // the item read with 2 was finished; nothing more was read
   *
   * // A signal aborted before the run starts: nothing is read.
   * const early = await run(flow, { signal: AbortSignal.abort() });
   * assertEquals(early.status, "stopped");
   * assertEquals(out, [1, 2]);
   * ```
   */
  readonly signal?: AbortSignal;
  /**
   * Called with a {@linkcode RunProgress} snapshot when the run starts, every
   * `progressInterval` milliseconds, at each epoch's end and commit, and when the run ends
   * (`event: "finished"`, also after a failure). Counting costs nothing when neither this,
   * `metrics` nor `tracer` is given. A listener that throws is ignored.
   *
   * @example Watching a run
   * ```ts
   * import { Dataflow, run, type RunProgress } from "@weir/weir";
   * import { TestingSink, TestingSource } from "@weir/weir/testing";
   * import { map } from "rxjs";
   * import { assertEquals } from "@std/assert";
   *
   * const seen: RunProgress[] = [];
   * const flow = new Dataflow("watched");
   * flow.input("inp", new TestingSource([1, 2, 3]))
   *   .pipe(map((x) => x * 2))
   *   .output("out", new TestingSink([]));
   * await run(flow, { onProgress: (p) => seen.push(p) });
   * const last = seen.at(-1)!;
   * assertEquals([seen[0]!.event, last.event, last.status], ["started", "finished", "eof"]);
   * assertEquals(last.inputs[0]!.items, 3);
   * assertEquals(last.outputs, [{ stepId: "watched.out", items: 3, rate: last.outputs[0]!.rate }]);
   * ```
   */
  readonly onProgress?: (progress: RunProgress) => void;
  /** Milliseconds between periodic `onProgress` snapshots (default 1000; 0: none). */
  readonly progressInterval?: number;
  /**
   * Serves Prometheus metrics at `/metrics` and a live dashboard at `/` on this port while
   * the run runs (Deno only: the server's module is loaded only when this is given). Binds
   * `127.0.0.1` unless `hostname` says otherwise; the server stops when the run ends. See
   * the README's "Watching a flow" for the metrics and the routes.
   *
   * @example Scraping /metrics while the run reads its input
   * ```ts
   * import { Dataflow, type DynamicSource, EOF, run } from "@weir/weir";
   * import { TestingSink } from "@weir/weir/testing";
   * import { assertStringIncludes } from "@std/assert";
   *
   * let base = "";
   * let text = "";
   * const source: DynamicSource<number> = {
   *   build() {
   *     let sent = 0;
   *     return {
   *       async nextBatch() {
   *         if (sent === 2) return EOF;
   *         if (sent++ === 1) text = await (await fetch(`${base}/metrics`)).text();
   *         return [1, 2, 3];
   *       },
   *     };
   *   },
   * };
   * const flow = new Dataflow("scraped");
   * flow.input("inp", source).output("out", new TestingSink([]));
   * await run(flow, {
   *   epochInterval: 0,
   *   metrics: { port: 0, onListen: ({ hostname, port }) => base = `http://${hostname}:${port}` },
   * });
   * assertStringIncludes(
   *   text,
   *   'weir_step_items_in_total{flow="scraped",worker="0",step="scraped.out"} 3',
   * );
   * ```
   */
  readonly metrics?: MetricsServerOptions;
  /**
   * Records a span per epoch (`weir.epoch`) and per commit (`weir.commit`) with this
   * OpenTelemetry tracer, e.g. `trace.getTracer("weir")` from `npm:@opentelemetry/api`
   * (Deno exports them with `OTEL_DENO=true`; see the README). Off when absent. A tracer
   * that throws is ignored.
   *
   * @example Any object shaped like OpenTelemetry's tracer will do
   * ```ts
   * import { Dataflow, run, type Tracer } from "@weir/weir";
   * import { TestingSink, TestingSource } from "@weir/weir/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const spans: string[] = [];
   * const tracer: Tracer = {
   *   startSpan: (name, options) => ({
   *     setAttribute: () => {},
   *     end: () => spans.push(`${name} ${options?.attributes?.["weir.epoch"]}`),
   *   }),
   * };
   * const flow = new Dataflow("traced");
   * flow.input("inp", new TestingSource([1, 2])).output("out", new TestingSink([]));
   * await run(flow, { tracer });
   * assertEquals(spans, ["weir.epoch 1"]);
   * ```
   */
  readonly tracer?: Tracer;
}

/** The default epoch length: 10 seconds, like Bytewax. */
export const DEFAULT_EPOCH_INTERVAL_MS = 10_000;

/**
 * Runs a dataflow until every input reached EOF and every sink finished, or until
 * `options.signal` stops it (see {@linkcode RunOptions.signal}).
 *
 * Resolves with a {@linkcode RunSummary} (`status: "stopped"` after a stop, `"aborted"` when
 * a source threw `AbortExecution`); rejects with a `DataflowError` naming the failing step (with the original
 * error as `cause`) when user code or a connector fails, and with an `Error` when the flow
 * has no input or no output.
 *
 * @example
 * ```ts
 * import { Dataflow, keyOn, run } from "@weir/weir";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, string][] = [];
 * const flow = new Dataflow("run_demo");
 * flow.input("inp", new TestingSource(["apple", "banana"]))
 *   .pipe(keyOn("first_letter", (s) => s[0]!))
 *   .output("out", new TestingSink(out));
 * const summary = await run(flow, { epochInterval: 1000 });
 * assertEquals(summary.status, "eof");
 * assertEquals(out, [["a", "apple"], ["b", "banana"]]);
 * ```
 */
export async function run(flow: Dataflow, options: RunOptions = {}): Promise<RunSummary> {
  const epochInterval = options.epochInterval ?? DEFAULT_EPOCH_INTERVAL_MS;
  if (typeof epochInterval !== "number" || !(epochInterval >= 0)) {
    throw new RangeError(
      `epochInterval must be a number of milliseconds >= 0, got ${epochInterval}`,
    );
  }
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`workers must be a positive integer, got ${workers}`);
  }
  // worker_scheduler.ts's IN_WORKER, set while a worker imports the flow's module (a
  // registered symbol: importing that module would put the parallel runtime into every bundle
  // of run); it makes the error.
  const inWorker = (globalThis as Record<symbol, unknown>)[Symbol.for("weir.inWorker")];
  if (inWorker !== undefined) throw (inWorker as (flowId: string) => Error)(flow.flowId);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`signal must be an AbortSignal, got ${typeNameOf(signal)}`);
  }
  validateFlow(flow);
  const committers = flow.steps.filter((s) => s.kind === "output" && isEpochCommitter(s.sink));
  if (committers.length > 1) {
    throw new RangeError(
      `A flow can have one sink that commits its epochs itself (exactly-once Kafka), but ` +
        `${committers.map((s) => `"${s.id}"`).join(" and ")} both do: a crash between their ` +
        `commits could not be resumed exactly once. Write one of them at least once`,
    );
  }
  const interval = options.progressInterval ?? 1000;
  if (typeof interval !== "number" || !(interval >= 0)) {
    throw new RangeError(
      `progressInterval must be a number of milliseconds >= 0, got ${interval}`,
    );
  }
  const observed = options.onProgress !== undefined || options.metrics !== undefined ||
    options.tracer !== undefined;
  if (workers > 1) {
    // The parallel runtime, with the checks of its options, is loaded only for workers > 1 and
    // kept out of a browser bundle (a coordinator of Web Workers running Deno modules): the
    // specifier is not a literal.
    const url = new URL("./parallel.ts", import.meta.url).href;
    let parallel: {
      runOnWorkers(
        flow: Dataflow,
        options: RunOptions,
        epochInterval: number,
        committers: readonly StepRecord[],
      ): Promise<RunSummary>;
    };
    try {
      parallel = await import(url);
    } catch (err) {
      throw new Error(
        `Cannot load weir's parallel runtime: ${err instanceof Error ? err.message : err} ` +
          `(with workers > 1, weir loads parallel.ts, and each worker weir's worker_main.ts and ` +
          `the flow's module: grant read access to weir's files and the module)`,
        { cause: err },
      );
    }
    return await parallel.runOnWorkers(flow, options, epochInterval, committers);
  }
  if (!observed) return await runWorker(flow, options, epochInterval, undefined);
  // Loaded only when observed: a browser bundle (split) fetches the monitor's chunk then.
  const { Monitor: MonitorClass } = await import("../observe/monitor.ts");
  let server: MetricsServer | undefined;
  let monitor: Monitor | undefined;
  const observe = (resumedFrom: number | undefined) => {
    monitor = new MonitorClass(flow, { interval, resumedFrom, tracer: options.tracer });
    if (options.onProgress !== undefined) monitor.subscribe(options.onProgress);
    server?.attach(monitor);
    return monitor;
  };
  try {
    if (options.metrics !== undefined) {
      // Deno only, and kept out of a browser bundle: its specifier is not a literal.
      const where = new URL("../observe/server.ts", import.meta.url).href;
      const mod: {
        serveMetrics(flow: Dataflow, options: MetricsServerOptions): Promise<MetricsServer>;
      } = await import(where);
      server = await mod.serveMetrics(flow, options.metrics);
    }
    const summary = await runWorker(flow, options, epochInterval, observe);
    (monitor as Monitor | undefined)?.finished(summary.status, summary.epoch);
    return summary;
  } catch (err) {
    (monitor as Monitor | undefined)?.finished("failed");
    throw err;
  } finally {
    await server?.close();
  }
}

/** Builds the worker and runs it, with recovery when configured. */
async function runWorker(
  flow: Dataflow,
  options: RunOptions,
  epochInterval: number,
  observe: ((resumedFrom: number | undefined) => Monitor) | undefined,
): Promise<RunSummary> {
  const signal = options.signal;
  const clock = options.clock ?? new WallClock();
  const config = options.recovery;
  if (config === undefined) {
    const rt = new WorkerRuntime(clock, 0, 1);
    const worker = buildWorker(flow, rt);
    return await new Scheduler(worker, {
      epochInterval,
      flowId: flow.flowId,
      signal,
      observer: observe?.(undefined),
    }).run();
  }
  const store = await RecoveryStore.open(config, flow.flowId, clock.now());
  try {
    const rt = new WorkerRuntime(clock, 0, 1);
    const worker = buildWorker(flow, rt);
    const restorer = new Restorer(workerLayout(worker));
    const upTo = await twoCommitters(flow, worker, store);
    await store.loadInto(restorer, { upTo });
    restorer.checkOrphans(store, config.dropOrphans === true);
    const resumedFrom = store.lastEpoch;
    rt.epoch = resumedFrom + 1;
    const resume = restorer.positions;
    const dropOrphans = config.dropOrphans === true;
    const summary = await new Scheduler(worker, {
      epochInterval,
      flowId: flow.flowId,
      store,
      resume,
      opened: () => restorer.checkPartitions(listedEnds(worker), store, dropOrphans),
      signal,
      observer: observe?.(resumedFrom),
    }).run();
    await store.close();
    return { ...summary, resumedFrom };
  } catch (err) {
    // The run's own failure is the one to report; closing is best effort.
    await store.close().catch(() => {});
    throw err;
  }
}

/**
 * With a sink that commits each epoch after the store ({@linkcode EpochCommitter}): asks it
 * which epoch it committed last and returns the epoch to load the store up to — the epoch
 * before the store's newest when the crash came between the two commits (see "Two
 * committers" in ARCHITECTURE.md). Keeps the newest epoch out of folding from now on.
 */
async function twoCommitters(
  flow: Dataflow,
  worker: BuiltWorker,
  store: RecoveryStore,
): Promise<number | undefined> {
  const out = worker.outputs.find((o) => isEpochCommitter(o.step.sink));
  if (out === undefined) return undefined;
  store.keepNewestEpoch = true;
  const newest = await store.newestEpoch();
  let confirmed: number;
  try {
    confirmed = await (out.step.sink as EpochCommitter).confirmedEpoch(out.step.id);
  } catch (err) {
    throw new DataflowError(out.step.id, "Cannot read the last epoch the sink committed", {
      cause: err,
    });
  }
  if (confirmed === newest) return undefined;
  if (confirmed === newest - 1) return confirmed;
  throw new RecoveryError(
    `Flow "${flow.flowId}": the sink of step "${out.step.id}" committed epoch ${confirmed} ` +
      `last, but the recovery store in ${store.backend.description} ends at epoch ${newest}; ` +
      `they may differ by one epoch at most. One of them was reset or replaced: start both ` +
      `afresh (a new store and a new transactional id), or restore the matching pair`,
  );
}

/** Describes a value's type for an error message. */
function typeNameOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? `a ${name}` : "an object";
}
