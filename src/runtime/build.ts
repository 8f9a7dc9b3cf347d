/**
 * Builds one worker's runtime objects from a dataflow's recorded steps.
 *
 * Walks the steps in definition (topological) order and:
 * - fuses consecutive per-item steps (plain RxJS runs and weir chain steps) whose stream has
 *   a single consumer into one RxJS chain, so an item crosses them with plain calls;
 * - ends every other stream in a {@linkcode Channel} that fans out to its consumers; a
 *   `keyOn` ending a chain is not applied: its stream is a {@linkcode KeyingChannel}, which keys
 *   the items and hands a keyed node `(key, item)` without a pair;
 * - creates the input, output, branch, merge and node objects the scheduler drives.
 *
 * @module
 */
import { Observable, type OperatorFunction } from "rxjs";
import { attributeError, DataflowError } from "../errors.ts";
import type { Dataflow } from "../dataflow/dataflow.ts";
import type { StepRecord } from "../dataflow/graph.ts";
import type { Combiner, RuntimeNode } from "../dataflow/op.ts";
import { Channel, KeyingChannel } from "./channel.ts";
import { InputNode } from "./input_node.ts";
import { makeOutputNode, type OutputNode, PartitionedOutputNode } from "./output_node.ts";
import type { ExchangeHub, ExchangeNode } from "./exchange.ts";
import { KEY_OF, type MaybeKeyingOperator, tagErrors } from "./step_subscriber.ts";
import type { WorkerRuntime } from "./worker_runtime.ts";

/** One worker's graph, ready for the scheduler. */
export interface BuiltWorker {
  readonly rt: WorkerRuntime;
  /** Input steps, in definition order. */
  readonly inputs: readonly InputNode[];
  /**
   * Every node the scheduler flushes, in topological order: the nodes of `node` steps
   * (role `steps`) and of output steps (role `outputs`).
   */
  readonly nodes: readonly RuntimeNode<unknown>[];
  /**
   * Nodes in the role of a step (a `node` step's node): their pending work is waited for
   * before an epoch ends, and they are closed after the sinks.
   */
  readonly steps: readonly RuntimeNode<unknown>[];
  /** Nodes in the role of an output: their writes are settled, then they are closed. */
  /** The step id of each node, in `nodes` order. */
  readonly nodeIds: readonly string[];
  /** Each stream's channel, by stream id (streams inside a fused chain have none). */
  readonly streams: ReadonlyMap<string, Channel<unknown>>;
  readonly outputs: readonly OutputNode[];
  /** Tears down the RxJS chains. */
  readonly channels: readonly Channel<unknown>[];
  /** With several workers: the exchanges, in topological order (also in `nodes`). */
  readonly exchanges: readonly ExchangeNode[];
  /** Nodes holding keyed state (recovery), with their step ids, in topological order. */
  readonly stateful: ReadonlyArray<
    { readonly stepId: string; readonly node: RuntimeNode<unknown> }
  >;
}

/** An RxJS chain under construction, waiting for its next fused step. */
interface OpenChain {
  readonly obs: Observable<unknown>;
  readonly last: StepRecord;
}

/**
 * Throws unless the flow has at least one input and one output (or inspect) step.
 */
export function validateFlow(flow: Dataflow): void {
  const steps = flow.steps;
  if (!steps.some((s) => s.kind === "input")) {
    throw new Error(
      `Dataflow "${flow.flowId}" needs at least one input step; add one with flow.input()`,
    );
  }
  if (!steps.some((s) => s.kind === "output" || (s.kind === "chain" && s.spec.isOutput))) {
    throw new Error(
      `Dataflow "${flow.flowId}" needs at least one output or inspect step; add one with ` +
        `stream.output() or inspect()`,
    );
  }
}

/** Builds the runtime objects of one worker. */
export function buildWorker(flow: Dataflow, rt: WorkerRuntime): BuiltWorker {
  validateFlow(flow);
  const steps = flow.steps;
  const consumers = new Map<string, StepRecord[]>();
  const producer = new Map<string, string>();
  for (const s of steps) {
    // A scope record only names a group of substeps: it neither reads nor writes a stream (and
    // counting it as a consumer would keep the stream it reads from fusing).
    if (s.kind === "scope") continue;
    for (const up of s.ups) {
      let list = consumers.get(up);
      if (list === undefined) consumers.set(up, list = []);
      list.push(s);
    }
    for (const d of s.downs) producer.set(d, s.id);
  }
  const channels = new Map<string, Channel<unknown>>();
  const open = new Map<string, OpenChain>();
  const inputs: InputNode[] = [];
  const nodes: RuntimeNode<unknown>[] = [];
  const stepNodes: RuntimeNode<unknown>[] = [];
  const nodeIds: string[] = [];
  const outputs: OutputNode[] = [];
  const stateful: Array<{ stepId: string; node: RuntimeNode<unknown> }> = [];
  const hub = rt.hub;
  /** A redistribute step, which becomes an exchange when several workers run. */
  const spreads = (s: StepRecord) => hub !== undefined && s.kind === "chain" && s.spec.exchange;
  /** With several workers: an exchange (see `ExchangeHub.before`) after `up`; its channel. */
  const exchangeBefore = (
    stepId: string,
    up: Channel<unknown>,
    to: Parameters<ExchangeHub["before"]>[3],
    combine?: Combiner,
  ) => {
    const [ex, mid] = hub!.before(stepId, up, rt, to, combine);
    nodes.push(ex);
    nodeIds.push(stepId);
    return mid;
  };

  const channelOf = (streamId: string): Channel<unknown> => {
    const ch = channels.get(streamId);
    if (ch === undefined) throw new Error(`Internal error: no channel for stream ${streamId}`);
    return ch;
  };
  const newChannel = (streamId: string, stepId: string, producers = 1) => {
    const ch = new Channel<unknown>(stepId, rt, producers);
    channels.set(streamId, ch);
    return ch;
  };
  const fusesInto = (streamId: string): boolean => {
    const cs = consumers.get(streamId);
    return cs !== undefined && cs.length === 1 &&
      (cs[0]!.kind === "rx" || cs[0]!.kind === "chain") && !spreads(cs[0]!);
  };

  for (const s of steps) {
    const upstreamId = s.ups.length === 1 ? producer.get(s.ups[0]!) ?? s.id : s.id;
    switch (s.kind) {
      case "input": {
        inputs.push(new InputNode(s, rt, newChannel(s.downs[0]!, s.id)));
        break;
      }
      case "rx":
      case "chain": {
        const up = s.ups[0]!;
        if (spreads(s)) {
          // redistribute: an exchange dealing items round-robin over the workers.
          const mid = exchangeBefore(s.id, channelOf(up), "spread");
          const out = newChannel(s.downs[0]!, s.id);
          mid.addConsumer(out);
          break;
        }
        const chain = open.get(up);
        open.delete(up);
        let obs: Observable<unknown>;
        if (chain !== undefined) {
          obs = chain.last.kind === "rx" && s.kind === "rx"
            ? tagErrors<unknown>(chain.last.id)(chain.obs)
            : chain.obs;
        } else {
          obs = headOf(channelOf(up));
        }
        const down = s.downs[0]!;
        const fuses = fusesInto(down);
        /** A keying step ending the chain: its stream keys the items instead (KEY_OF). */
        let keyOf: ((item: unknown) => string) | undefined;
        try {
          if (s.kind === "rx") {
            for (const op of s.ops) obs = (op as OperatorFunction<unknown, unknown>)(obs);
          } else {
            const op = s.spec.build(rt.stepContext(s.id, upstreamId)) as MaybeKeyingOperator;
            keyOf = fuses ? undefined : op[KEY_OF];
            if (keyOf === undefined) obs = op(obs);
          }
        } catch (err) {
          throw attributeError(err, s.id, "Failed to build the step");
        }
        if (fuses) {
          open.set(down, { obs, last: s });
        } else if (keyOf !== undefined) {
          const ch = new KeyingChannel(s.id, rt, keyOf, upstreamId);
          channels.set(down, ch);
          obs.subscribe(ch);
        } else {
          obs.subscribe(newChannel(down, s.id));
        }
        break;
      }
      case "node": {
        const out = newChannel(s.downs[0]!, s.id);
        let node: RuntimeNode<unknown>;
        // With several workers and pre-aggregation, the node merges partial aggregates.
        const combine = hub !== undefined && s.spec.exchange === "key" ? s.spec.combine : undefined;
        try {
          const ctx = rt.stepContext(s.id, upstreamId);
          node = combine !== undefined ? combine.build(ctx, out) : s.spec.build(ctx, out);
        } catch (err) {
          throw attributeError(err, s.id, "Failed to build the step");
        }
        let input = channelOf(s.ups[0]!);
        if (hub !== undefined && s.spec.exchange === "key") {
          input = exchangeBefore(s.id, input, "key", combine);
        }
        input.addConsumer(node);
        nodes.push(node);
        stepNodes.push(node);
        nodeIds.push(s.id);
        if (node.forEachChange !== undefined) stateful.push({ stepId: s.id, node });
        break;
      }
      case "branch": {
        const trues = newChannel(s.downs[0]!, s.id);
        const falses = newChannel(s.downs[1]!, s.id);
        const predicate = s.predicate;
        const id = s.id;
        channelOf(s.ups[0]!).addConsumer({
          next(item) {
            let r;
            try {
              r = predicate(item);
            } catch (err) {
              rt.fail(new DataflowError(id, "Predicate failed", { cause: err }));
              return;
            }
            if (r === true) trues.next(item);
            else if (r === false) falses.next(item);
            else {
              rt.fail(
                new DataflowError(id, `Predicate must return a boolean, got ${typeName(r)}`, {
                  cause: new TypeError(`Predicate returned ${String(r)}`),
                }),
              );
            }
          },
          complete() {
            trues.complete();
            falses.complete();
          },
        });
        break;
      }
      case "merge": {
        const out = newChannel(s.downs[0]!, s.id, s.ups.length);
        for (const up of s.ups) channelOf(up).addConsumer(out);
        break;
      }
      case "output": {
        const node = makeOutputNode(s, rt);
        let input = channelOf(s.ups[0]!);
        if (hub !== undefined && node instanceof PartitionedOutputNode) {
          // Each partition is written by its owner: route items to it.
          input = exchangeBefore(s.id, input, node);
        }
        input.addConsumer(node);
        nodes.push(node);
        nodeIds.push(s.id);
        outputs.push(node);
        break;
      }
      case "scope":
        break;
    }
  }
  return {
    rt,
    inputs,
    nodes,
    nodeIds,
    streams: channels,
    steps: stepNodes,
    outputs,
    channels: hub === undefined ? [...channels.values()] : [...channels.values(), ...hub.channels],
    exchanges: hub?.exchanges ?? [],
    stateful,
  };
}

/** An Observable whose subscriber is registered directly as a consumer of `ch`. */
function headOf(ch: Channel<unknown>): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    ch.addConsumer(subscriber);
    return () => ch.removeConsumer(subscriber);
  });
}

function typeName(v: unknown): string {
  return v === null ? "null" : typeof v;
}
