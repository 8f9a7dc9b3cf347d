/**
 * The entry point of a weir worker (a Web Worker started by `run` with `workers > 1`).
 *
 * The coordinator posts one `init` message: the module to import and the export naming the
 * flow (a Dataflow, or a function returning one, called with `args`), this worker's index and
 * the worker count, a `MessagePort` to every other worker, and, on a resumed run, this worker's
 * share of the restored keys and every partition position. The worker builds the flow with
 * its exchanges, restores, and runs a {@linkcode WorkerScheduler} until the coordinator ends
 * the run; it reports `done` or its first failure (`error`).
 *
 * @module
 */
import { WallClock } from "../clock.ts";
import { Dataflow } from "../dataflow/dataflow.ts";
import { DISCARDED_STATE } from "../dataflow/op.ts";
import { DataflowError, whatFailed } from "../errors.ts";
import type { RestoredState } from "../recovery/restored.ts";
import { buildWorker } from "./build.ts";
import { ExchangeHub, type Link } from "./exchange.ts";
import { WorkerRuntime } from "./worker_runtime.ts";
import {
  Control,
  type FromWorker,
  IN_WORKER,
  refuseRunIn,
  type SerializedError,
  type ToWorker,
  WorkerScheduler,
} from "./worker_scheduler.ts";

/** The first message a worker receives. */
export interface WorkerInit {
  readonly t: "init";
  readonly module: string;
  /** The export; undefined: the one Dataflow export whose id is `flowId`. */
  readonly export: string | undefined;
  readonly args: readonly unknown[] | undefined;
  readonly flowId: string;
  readonly index: number;
  readonly count: number;
  readonly epochInterval: number;
  readonly links: ReadonlyArray<MessagePort | undefined>;
  readonly recovery: boolean;
  readonly firstEpoch: number;
  /** Restored keys this worker owns, flat: `1, stepId, key, snapshot` or `2, stepId, key, _`. */
  readonly state: unknown[];
  /** Steps whose state the store dropped, before `state` is applied. */
  readonly resets: readonly string[];
  readonly positions: RestoredState | undefined;
}

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const post = (m: FromWorker) => scope.postMessage(m);

scope.onmessage = (ev: MessageEvent) => {
  const init = ev.data as WorkerInit;
  if (init?.t !== "init") return;
  main(init).then(
    (summary) => post({ t: "done", summary }),
    (err) => post({ t: "error", error: serialize(err) }),
  );
};

async function main(init: WorkerInit) {
  const rt = new WorkerRuntime(new WallClock(), init.index, init.count);
  const ctl = new Control(() => rt.wake());
  scope.onmessage = (ev: MessageEvent) => ctl.push(ev.data as ToWorker);
  (globalThis as Record<symbol, unknown>)[IN_WORKER] = refuseRunIn(init.module);
  let flow: unknown;
  const url = init.module;
  try {
    const ns = await import(url) as Record<string, unknown>;
    let name = init.export;
    if (name === undefined) {
      const found = Object.keys(ns).filter((k) =>
        ns[k] instanceof Dataflow && (ns[k] as Dataflow).flowId === init.flowId
      );
      if (found.length !== 1) {
        throw new TypeError(
          found.length === 0
            ? `Flow "${init.flowId}" is not an export of ${url}; export it, or pass ` +
              `options.export naming the export (or a function returning the flow)`
            : `Flow "${init.flowId}" is exported by ${url} as ${found.join(", ")}; pass ` +
              `options.export naming one`,
        );
      }
      name = found[0]!;
    } else if (!(name in ns)) {
      throw new TypeError(`${url} has no export "${name}" (options.export)`);
    }
    flow = ns[name];
    if (typeof flow === "function") flow = await flow(...(init.args ?? []));
    if (!(flow instanceof Dataflow)) {
      throw new TypeError(
        `Export "${name}" of ${url} is not a Dataflow or a function returning one ` +
          `(options.export)`,
      );
    }
    if (flow.flowId !== init.flowId) {
      throw new TypeError(
        `Export "${name}" of ${url} built flow "${flow.flowId}", not "${init.flowId}"; every ` +
          `worker must build the flow passed to run`,
      );
    }
  } finally {
    delete (globalThis as Record<symbol, unknown>)[IN_WORKER];
  }
  rt.hub = new ExchangeHub(init.index, init.count, init.links as ReadonlyArray<Link>, rt);
  rt.toMain = post as (m: unknown) => void;
  const w = buildWorker(flow, rt);
  const nodes = new Map(w.stateful.map((s) => [s.stepId, s.node]));
  for (const id of init.resets) nodes.get(id)?.resetState?.();
  const state = init.state;
  for (let i = 0; i < state.length; i += 4) {
    const node = nodes.get(state[i + 1] as string);
    // Op 2 deletes the key; op 1 restores its snapshot.
    node?.restore?.(state[i + 2] as string, state[i] === 2 ? DISCARDED_STATE : state[i + 3]);
  }
  rt.epoch = init.firstEpoch;
  try {
    return await new WorkerScheduler(
      w,
      { epochInterval: init.epochInterval, flowId: init.flowId, resume: init.positions },
      ctl,
      post,
      init.recovery,
    ).run();
  } finally {
    rt.hub.close();
  }
}

function serialize(err: unknown): SerializedError {
  if (err instanceof DataflowError) {
    return {
      stepId: err.stepId,
      what: whatFailed(err),
      key: err.key,
      partition: err.partition,
      message: err.message,
      cause: cloneable(err.cause),
    };
  }
  return {
    what: "",
    message: err instanceof Error ? err.message : String(err),
    cause: cloneable(err),
  };
}

/** The value itself when it survives a structured clone, else an Error with its message. */
function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    const e = new Error(value instanceof Error ? value.message : String(value));
    if (value instanceof Error) e.name = value.name;
    return e;
  }
}
