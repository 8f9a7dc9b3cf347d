/**
 * The exchange: moves items between workers where the flow's semantics need it.
 *
 * With several workers, `buildWorker` puts an {@linkcode ExchangeNode} before every keyed
 * stateful step (route: the owner of the item's key, {@linkcode keyOwner}), before every
 * fixed-partitioned sink (route: the owner of the item's partition) and in place of every
 * `redistribute` (route: round-robin). An item for this worker goes straight on; items for
 * another worker are gathered per worker and posted as one array per activation and link
 * (`postMessage` of a batch, never one message per item). A worker receives batches
 * between activations and delivers them at its next activation's flush of the exchange,
 * before the steps after it flush (topological order).
 *
 * Pre-aggregation: a keyed step whose spec has a `combine` (countFinal, reduceFinal,
 * foldFinal with a merge) gets an exchange that folds each key's values on the worker that
 * has them and moves `[key, partial]` pairs; the step's node then merges partials. The
 * partials are held until the epoch ends (`draining`), the upstream ends, or 50,000 keys
 * are held: one pair per key and epoch crosses instead of one per value.
 *
 * EOF: when the exchange's upstream completed on this worker, it sends an EOF marker on
 * every link after its last batch (a `MessagePort` keeps order); its downstream completes
 * once every worker's marker arrived and every batch was delivered.
 *
 * @module
 */
import { type Combiner, type Downstream, NO_PARTIAL, type RuntimeNode } from "../dataflow/op.ts";

import { Channel, type ChannelRuntime } from "./channel.ts";
import { keyOwner, partitionOwner } from "./owners.ts";

export { keyHash, keyOwner, partitionOwner } from "./owners.ts";

/** Above this many keys with a held partial aggregate, an exchange sends them at once. */
const MAX_HELD_PARTIALS = 50_000;

/** A message on a link between two workers. */
export type LinkMessage =
  | { readonly x: number; readonly items: unknown[] }
  | { readonly x: number; readonly eof: true };

/** The port to another worker, as the hub sees it (a `MessagePort`). */
export interface Link {
  postMessage(message: LinkMessage): void;
  onmessage: ((ev: MessageEvent<LinkMessage>) => void) | null;
}

/**
 * One worker's links to the others, shared by all its exchanges. Counts the messages it
 * sent and delivered, for the coordinator's quiescence check at an epoch end.
 */
export class ExchangeHub {
  /** Messages posted to other workers. */
  sent = 0;
  /** Messages delivered into this worker's graph. */
  delivered = 0;
  /** Messages arrived but not yet delivered. */
  waiting = 0;
  readonly exchanges: ExchangeNode[] = [];

  /** The channels after this worker's exchanges, in `exchanges` order. */
  readonly channels: Channel<unknown>[] = [];

  /**
   * For `buildWorker` (the wiring lives here, so a single-worker bundle holds none of it): a
   * new exchange of this hub for step `stepId`, consuming `up`, and the new channel it feeds.
   * `to` routes each item: `"key"` to the owner of its key ({@linkcode keyOwner}; with
   * `combine`, pre-aggregating), `"spread"` round-robin from this worker (`redistribute`), a
   * fixed-partitioned sink's node to the owner of the item's partition. Items that are not
   * `[key, value]` pairs stay on this worker, whose step reports them.
   */
  before(
    stepId: string,
    up: Channel<unknown>,
    rt: ChannelRuntime & { wake(): void },
    to: "key" | "spread" | { partitionIndex(item: unknown): number },
    combine?: Combiner,
  ): [ExchangeNode, Channel<unknown>] {
    const self = this.workerIndex;
    const count = this.workerCount;
    let route: (item: unknown) => number;
    if (to === "key") {
      route = (item) =>
        Array.isArray(item) && typeof item[0] === "string" ? keyOwner(item[0], count) : self;
    } else if (to === "spread") {
      let next = self;
      route = () => (next = next + 1 === count ? 0 : next + 1);
    } else {
      route = (item) => {
        const p = to.partitionIndex(item);
        return p < 0 ? self : partitionOwner(p, count);
      };
    }
    const mid = new Channel<unknown>(stepId, rt);
    const ex = new ExchangeNode(stepId, this.exchanges.length, this, route, mid, combine);
    this.exchanges.push(ex);
    this.channels.push(mid);
    up.addConsumer(ex);
    return [ex, mid];
  }

  constructor(
    readonly workerIndex: number,
    readonly workerCount: number,
    private readonly links: ReadonlyArray<Link | undefined>,
    /** The worker's runtime, woken when a batch arrives (only `wake` is used). */
    private readonly rt: { wake(): void },
  ) {
    for (const link of links) {
      if (link === undefined) continue;
      link.onmessage = (ev) => {
        const m = ev.data;
        this.waiting++;
        this.exchanges[m.x]!.receive(m);
        this.rt.wake();
      };
    }
  }

  /** Posts a message to `worker`. */
  send(worker: number, message: LinkMessage): void {
    this.sent++;
    this.links[worker]!.postMessage(message);
  }

  /** Closes every link. */
  close(): void {
    for (const link of this.links) {
      if (link === undefined) continue;
      link.onmessage = null;
      (link as unknown as { close?: () => void }).close?.();
    }
  }
}

/** Moves items to the worker `route` names, in batches; see the module's description. */
export class ExchangeNode implements RuntimeNode<unknown> {
  /** Items that entered or were delivered: activity, for the drain at an epoch end. */
  moved = 0;
  private bufs: unknown[][];
  private inbox: LinkMessage[] = [];
  private localDone = false;
  private eofSent = false;
  private peersDone = 0;
  /** The downstream completed: every worker's upstream ended and everything was delivered. */
  done = false;
  private readonly self: number;
  /** With a combiner: each worker's partial aggregates of this activation, by key. */
  private readonly partials: Map<string, unknown>[] | undefined;
  private readonly fold: ((partial: unknown, value: unknown) => unknown) | undefined;
  /** Keys with a partial aggregate held (over every worker's map). */
  private held = 0;
  /**
   * Set by the worker's scheduler while an epoch ends: held partial aggregates are sent at
   * the next flush, so they are merged (and snapshotted) within the epoch.
   */
  draining = false;

  /**
   * @param stepId The step the exchange feeds (for errors and graphs).
   * @param index This exchange's index in the hub (the same on every worker).
   * @param route The worker an item goes to.
   * @param combine Pre-aggregation of `[key, value]` items (keyed exchanges only): values are
   *   folded per key and activation, and `[key, partial]` pairs go to the key's owner.
   */
  constructor(
    readonly stepId: string,
    readonly index: number,
    private readonly hub: ExchangeHub,
    private readonly route: (item: unknown) => number,
    private readonly down: Downstream<unknown>,
    combine?: Combiner,
  ) {
    this.self = hub.workerIndex;
    this.bufs = Array.from({ length: hub.workerCount }, () => []);
    this.fold = combine?.fold;
    this.partials = combine && Array.from({ length: hub.workerCount }, () => new Map());
  }

  next(item: unknown): void {
    this.moved++;
    const fold = this.fold;
    if (fold !== undefined && Array.isArray(item) && typeof item[0] === "string") {
      const key = item[0];
      const m = this.partials![this.route(item)]!;
      let p = m.get(key);
      if (p === undefined && !m.has(key)) {
        p = NO_PARTIAL;
        this.held++;
      }
      m.set(key, fold(p, item[1]));
      return;
    }
    const w = this.route(item);
    if (w === this.self) this.down.next(item);
    else this.bufs[w]!.push(item);
  }

  complete(): void {
    this.localDone = true;
  }

  /** A message from another worker (between activations). */
  receive(m: LinkMessage): void {
    this.inbox.push(m);
  }

  /** Sends this activation's batches (and EOF markers), then delivers what arrived. */
  flush(): void {
    const { bufs, hub, index } = this;
    const partials = this.partials;
    // Partial aggregates wait for the epoch's end (or EOF, or a large map): the steps that
    // combine emit only at EOF, so holding them costs no latency and moves one pair per key
    // and epoch instead of per activation.
    if (
      partials !== undefined &&
      (this.draining || this.localDone || this.held > MAX_HELD_PARTIALS)
    ) {
      this.held = 0;
      for (let w = 0; w < partials.length; w++) {
        const m = partials[w]!;
        if (m.size === 0) continue;
        if (w === this.self) { for (const kv of m) this.down.next(kv); }
        else for (const kv of m) bufs[w]!.push(kv);
        m.clear();
      }
    }
    for (let w = 0; w < bufs.length; w++) {
      const b = bufs[w]!;
      if (b.length === 0) continue;
      bufs[w] = [];
      hub.send(w, { x: index, items: b });
    }
    if (this.localDone && !this.eofSent) {
      this.eofSent = true;
      for (let w = 0; w < bufs.length; w++) {
        if (w !== this.self) hub.send(w, { x: index, eof: true });
      }
    }
    const inbox = this.inbox;
    if (inbox.length > 0) {
      this.inbox = [];
      for (const m of inbox) {
        hub.waiting--;
        hub.delivered++;
        if ("eof" in m) {
          this.peersDone++;
          continue;
        }
        const items = m.items;
        this.moved += items.length;
        for (let i = 0; i < items.length; i++) this.down.next(items[i]);
      }
    }
    if (!this.done && this.eofSent && this.peersDone === hub.workerCount - 1) {
      this.done = true;
      this.down.complete();
    }
  }
}
