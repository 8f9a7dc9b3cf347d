/**
 * The run's observer behind `run(flow, { onProgress })`, the CLI's progress line, the
 * Prometheus `/metrics` endpoint and the live dashboard: turns the scheduler's calls and the
 * runtime's counters into {@linkcode RunProgress} snapshots. Browser-safe.
 *
 * @module
 */
import type { Dataflow } from "../dataflow/dataflow.ts";
import type { BusyTimes, ObservedWorker, RunObserver } from "./observer.ts";

/** Why a {@linkcode RunProgress} was sent. */
export type ProgressEvent = "started" | "tick" | "epoch" | "commit" | "finished";

/** An input's share of a {@linkcode RunProgress}. */
export interface InputProgress {
  /** The input step's id. */
  readonly stepId: string;
  /** Items read so far in this run. */
  readonly items: number;
  /** Items per second since the previous tick. */
  readonly rate: number;
  /**
   * Units read (bytes for files), summed over partitions, from the source's start — present
   * when every partition reports `progress()`.
   */
  readonly position?: number;
  /** Units in all, when every partition knows its end. */
  readonly end?: number;
  /** `position / end` in percent (0–100), when the end is known. */
  readonly percent?: number;
  /** Estimated milliseconds left at this run's average speed, when the end is known. */
  readonly etaMs?: number;
}

/** An output's share of a {@linkcode RunProgress}. */
export interface OutputProgress {
  /** The output step's id. */
  readonly stepId: string;
  /** Items handed to the sink so far in this run. */
  readonly items: number;
  /** Items per second since the previous tick. */
  readonly rate: number;
}

/**
 * One step's counters. Items are counted on streams that end in a channel (every stream
 * except those between per-item steps fused into one RxJS chain), so a fused step in the
 * middle of a chain has no `itemsIn`/`itemsOut`.
 */
export interface StepProgress {
  /** The step's id. */
  readonly stepId: string;
  /** Items the step read, when measured. */
  readonly itemsIn?: number;
  /** Items the step wrote, when measured. */
  readonly itemsOut?: number;
  /** Items written per second since the previous tick, when measured. */
  readonly rate?: number;
  /**
   * Wall-clock milliseconds the step was busy (inputs: reading and pushing through fused
   * chains; nodes: their end-of-activation flush), measured per activation.
   */
  readonly busyMs?: number;
  /** Keys holding state (stateful steps). */
  readonly keys?: number;
}

/** A snapshot of a running flow, sent on every {@linkcode ProgressEvent}. */
export interface RunProgress {
  /** Why it was sent: started, a periodic tick, an epoch's end, a commit, the end. */
  readonly event: ProgressEvent;
  /** The flow id. */
  readonly flowId: string;
  /** The worker index (0 with one worker). */
  readonly worker: number;
  /** Wall-clock time of the snapshot (epoch ms). */
  readonly at: number;
  /** Wall-clock milliseconds since the run started. */
  readonly elapsedMs: number;
  /** The current epoch. */
  readonly epoch: number;
  /** With recovery: the epoch the run resumed after (0 for a fresh store). */
  readonly resumedFrom?: number;
  /** `"running"`, then how the run ended. */
  readonly status: "running" | "eof" | "stopped" | "aborted" | "failed";
  /** Inputs, in definition order. */
  readonly inputs: readonly InputProgress[];
  /** Outputs, in definition order. */
  readonly outputs: readonly OutputProgress[];
  /** Every non-scope step, in definition order. */
  readonly steps: readonly StepProgress[];
  /** The last epoch that ended: its number and duration. */
  readonly lastEpoch?: { readonly epoch: number; readonly durationMs: number; readonly at: number };
  /** The last commit (recovery): epoch, segment size and latency. */
  readonly lastCommit?: {
    readonly epoch: number;
    readonly bytes: number;
    readonly latencyMs: number;
    readonly at: number;
  };
}

/** A span as OpenTelemetry's API makes them (only what weir uses). */
export interface TraceSpan {
  /** Sets an attribute. */
  setAttribute(key: string, value: string | number): unknown;
  /** Ends the span, at `endTime` (epoch ms) when given. */
  end(endTime?: number): void;
}

/**
 * A tracer as OpenTelemetry's API makes them (`trace.getTracer("weir")` from
 * `npm:@opentelemetry/api`); weir depends on no OpenTelemetry package.
 */
export interface Tracer {
  /** Starts a span; `startTime` in epoch ms. */
  startSpan(
    name: string,
    options?: { startTime?: number; attributes?: Record<string, string | number> },
  ): TraceSpan;
}

/** Options of the metrics server: `RunOptions.metrics`. */
export interface MetricsServerOptions {
  /** The TCP port (0 picks a free one; see `onListen`). */
  readonly port: number;
  /**
   * The address to bind (default `"127.0.0.1"`: only this machine can connect). Give
   * `"0.0.0.0"` to let a Prometheus on another host scrape it.
   */
  readonly hostname?: string;
  /** Called once the server listens, with the address it bound. */
  readonly onListen?: (addr: { hostname: string; port: number }) => void;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The address bound. */
  readonly hostname: string;
  /** The port bound. */
  readonly port: number;
  /** Starts serving a monitor's snapshots (once the run has built its worker). */
  attach(monitor: Monitor): void;
  /** Ends the event streams and stops the server. */
  close(): Promise<void>;
}

/** Options of {@linkcode Monitor}. */
export interface MonitorOptions {
  /** Milliseconds between `"tick"` snapshots (default 1000; 0: no ticks). */
  readonly interval?: number;
  /** With recovery: the epoch the run resumed after. */
  readonly resumedFrom?: number;
  /** Epoch and commit spans go here. */
  readonly tracer?: Tracer;
}

interface Counted {
  readonly stepId: string;
  readonly items: () => number;
  prev: number;
}

/**
 * Observes one run and hands {@linkcode RunProgress} snapshots to its listeners. `run`
 * makes one when given `onProgress`, `metrics` or `tracer`.
 */
export class Monitor implements RunObserver {
  readonly flowId: string;
  private readonly listeners = new Set<(p: RunProgress) => void>();
  private worker: ObservedWorker | undefined = undefined;
  private busy: BusyTimes | undefined = undefined;
  private timer: ReturnType<typeof setInterval> | undefined = undefined;
  private startedAt = Date.now();
  private prevAt = this.startedAt;
  private epoch = 0;
  private status: RunProgress["status"] = "running";
  private lastEpoch: RunProgress["lastEpoch"] = undefined;
  private lastCommit: RunProgress["lastCommit"] = undefined;
  private inputs: Array<Counted & { readonly index: number; startPos: number | undefined }> = [];
  private outputs: Counted[] = [];
  /** Items per stream with a channel. */
  private streams = new Map<string, Counted>();
  private readonly interval: number;
  private readonly resumedFrom: number | undefined;
  private readonly tracer: Tracer | undefined;
  private latest: RunProgress | undefined = undefined;

  /**
   * @param flow The flow being run.
   * @param options Tick interval, resume epoch, tracer.
   */
  constructor(readonly flow: Dataflow, options: MonitorOptions = {}) {
    this.flowId = flow.flowId;
    this.interval = options.interval ?? 1000;
    this.resumedFrom = options.resumedFrom;
    this.tracer = options.tracer;
  }

  /** Adds a listener; returns a function removing it. */
  subscribe(fn: (p: RunProgress) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The last snapshot sent, or a fresh one while running. */
  current(): RunProgress {
    return this.status === "running" && this.worker !== undefined
      ? this.snapshot("tick", false)
      : this.latest ?? this.snapshot("tick", false);
  }

  started(worker: ObservedWorker, busy: BusyTimes, epoch: number): void {
    this.worker = worker;
    this.busy = busy;
    this.epoch = epoch;
    this.startedAt = this.prevAt = Date.now();
    const inputIds = new Set(worker.inputs.map((i) => i.step.id));
    for (const [id, ch] of worker.streams) {
      if (inputIds.has(ch.stepId)) continue; // counted per batch by the input
      ch.countItems();
      this.streams.set(id, { stepId: ch.stepId, items: () => ch.items, prev: 0 });
    }
    this.inputs = worker.inputs.map((inp, index) => ({
      stepId: inp.step.id,
      items: () => inp.items,
      prev: 0,
      index,
      startPos: inp.progress()?.position,
    }));
    this.outputs = worker.outputs.map((out) => {
      const ch = worker.streams.get(out.step.ups[0]!);
      const inp = worker.inputs.find((i) => i.step.id === ch?.stepId);
      const items = inp !== undefined ? () => inp.items : () => ch?.items ?? 0;
      return { stepId: out.step.id, items, prev: 0 };
    });
    this.emit("started");
    if (this.interval > 0) this.timer = setInterval(() => this.emit("tick"), this.interval);
  }

  epochEnded(epoch: number, durationMs: number): void {
    const at = Date.now();
    this.lastEpoch = { epoch, durationMs, at };
    this.epoch = epoch + 1;
    this.span("weir.epoch", at - durationMs, at, { "weir.epoch": epoch });
    this.emit("epoch");
  }

  committed(epoch: number, bytes: number, latencyMs: number): void {
    const at = Date.now();
    this.lastCommit = { epoch, bytes, latencyMs, at };
    this.span("weir.commit", at - latencyMs, at, {
      "weir.epoch": epoch,
      "weir.snapshot_bytes": bytes,
    });
    this.emit("commit");
  }

  /** Records a finished span; a tracer that throws is ignored, as a listener would be. */
  private span(
    name: string,
    start: number,
    end: number,
    attributes: Record<string, string | number>,
  ): void {
    if (this.tracer === undefined) return;
    try {
      this.tracer.startSpan(name, {
        startTime: start,
        attributes: { "weir.flow": this.flowId, "weir.worker": 0, ...attributes },
      }).end(end);
    } catch {
      // Tracing must not fail the run (the scheduler would report it as a commit failure).
    }
  }

  /** The run ended: sends the `"finished"` snapshot and stops the ticks. */
  finished(status: Exclude<RunProgress["status"], "running">, epoch?: number): void {
    if (this.status !== "running") return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (epoch !== undefined) this.epoch = epoch;
    this.status = status;
    this.emit("finished");
  }

  private emit(event: ProgressEvent): void {
    const p = this.snapshot(event, event === "tick" || event === "finished");
    this.latest = p;
    for (const fn of this.listeners) {
      try {
        fn(p);
      } catch {
        // A listener's failure must not stop the run or the other listeners.
      }
    }
  }

  private snapshot(event: ProgressEvent, advance: boolean): RunProgress {
    const at = Date.now();
    const dt = (at - this.prevAt) / 1000;
    const rate = (c: Counted, now: number) => dt > 0 ? Math.max(0, now - c.prev) / dt : 0;
    const take = (c: Counted) => {
      const items = c.items();
      const r = rate(c, items);
      if (advance) c.prev = items;
      return { items, rate: r };
    };
    const elapsedMs = at - this.startedAt;
    const w = this.worker;
    const inputs: InputProgress[] = this.inputs.map((c) => {
      const { items, rate } = take(c);
      const pr = w?.inputs[c.index]?.progress();
      if (pr === undefined) return { stepId: c.stepId, items, rate };
      const base = { stepId: c.stepId, items, rate, position: pr.position };
      if (pr.end === undefined) return base;
      const left = Math.max(0, pr.end - pr.position);
      const percent = pr.end > 0 ? Math.min(100, (pr.position / pr.end) * 100) : 100;
      const done = pr.position - (c.startPos ?? 0);
      const etaMs = left === 0
        ? 0
        : done > 0 && elapsedMs > 0
        ? Math.round((left / done) * elapsedMs)
        : undefined;
      return etaMs === undefined
        ? { ...base, end: pr.end, percent }
        : { ...base, end: pr.end, percent, etaMs };
    });
    const outputs = this.outputs.map((c) => ({ stepId: c.stepId, ...take(c) }));
    const streamItems = new Map<string, { items: number; rate: number }>();
    for (const [id, c] of this.streams) streamItems.set(id, take(c));
    const inputItems = new Map(inputs.map((i) => [i.stepId, i]));
    const busyOf = new Map<string, number>();
    const keysOf = new Map<string, number>();
    if (w !== undefined && this.busy !== undefined) {
      w.inputs.forEach((inp, i) => busyOf.set(inp.step.id, this.busy!.inputs[i]!));
      w.nodeIds.forEach((id, i) => busyOf.set(id, this.busy!.nodes[i]!));
      for (const s of w.stateful) {
        const k = (s.node as { keyCount?: unknown }).keyCount;
        if (typeof k === "number") keysOf.set(s.stepId, k);
      }
    }
    const sum = (ids: readonly string[]) => {
      let n = 0;
      let r = 0;
      for (const id of ids) {
        const s = streamItems.get(id);
        if (s === undefined) return undefined;
        n += s.items;
        r += s.rate;
      }
      return { items: n, rate: r };
    };
    const steps: StepProgress[] = [];
    for (const s of this.flow.steps) {
      if (s.kind === "scope") continue;
      const step: { -readonly [K in keyof StepProgress]: StepProgress[K] } = { stepId: s.id };
      if (s.kind === "input") {
        const i = inputItems.get(s.id);
        if (i !== undefined) {
          step.itemsOut = i.items;
          step.rate = i.rate;
        }
      } else {
        const ups = s.ups.map((u) => inputStream(u, inputItems) ?? streamItems.get(u));
        if (ups.every((u) => u !== undefined)) {
          step.itemsIn = ups.reduce((n, u) => n + u!.items, 0);
        }
        const out = s.downs.length > 0 ? sum(s.downs) : undefined;
        if (out !== undefined) {
          step.itemsOut = out.items;
          step.rate = out.rate;
        }
      }
      const busy = busyOf.get(s.id);
      if (busy !== undefined) step.busyMs = busy;
      const keys = keysOf.get(s.id);
      if (keys !== undefined) step.keys = keys;
      steps.push(step);
    }
    if (advance) this.prevAt = at;
    const p: RunProgress = {
      event,
      flowId: this.flowId,
      worker: 0,
      at,
      elapsedMs,
      epoch: this.epoch,
      ...(this.resumedFrom === undefined ? {} : { resumedFrom: this.resumedFrom }),
      status: this.status,
      inputs,
      outputs,
      steps,
      ...(this.lastEpoch === undefined ? {} : { lastEpoch: this.lastEpoch }),
      ...(this.lastCommit === undefined ? {} : { lastCommit: this.lastCommit }),
    };
    return p;
  }
}

/** The counts of an input's own stream (`<input id>.down`), read from the input. */
function inputStream(
  streamId: string,
  inputs: ReadonlyMap<string, { items: number; rate: number }>,
): { items: number; rate: number } | undefined {
  return streamId.endsWith(".down") ? inputs.get(streamId.slice(0, -5)) : undefined;
}
