/**
 * Checkpointing in one place: what an epoch's snapshot holds ({@linkcode collectSnapshots})
 * and how a resumed run gets it back ({@linkcode Restorer}, with the orphan and partition
 * checks). The single-worker scheduler and the multi-worker coordinator share both; they
 * differ only in where the snapshot goes (a `SegmentWriter`, or a message to the
 * coordinator) and where a restored key goes (its node, or the worker owning the key).
 *
 * @module
 */
import { attributeError, DataflowError } from "../errors.ts";
import { DISCARDED_STATE } from "../dataflow/op.ts";
import { SnapshotEncodeError, type SnapshotKind } from "../recovery/segment.ts";
import type { LazyKeys } from "../recovery/lazy_keys.ts";
import type { LazyVisitor, RecoveryStore } from "../recovery/store.ts";
import { RecoveryError } from "../recovery/errors.ts";
import { type RestoredState, splitStateKey, stateKey } from "../recovery/restored.ts";
import type { BuiltWorker } from "./build.ts";

/** Where an epoch's snapshot is written: a `SegmentWriter`, or a recorder of entries. */
export interface SnapshotTarget {
  /** Starts the entries of one step. */
  step(kind: SnapshotKind, stepId: string): void;
  /** A key's (or partition's) snapshot. */
  put(key: string, value: unknown): void;
  /** A key whose state was discarded. */
  del(key: string): void;
}

/**
 * Writes the epoch's snapshots of one worker into `target`: the keys every stateful step
 * changed in the epoch (their snapshot, or a deletion), the position of every live fixed
 * source partition (and of those that ended since the last snapshot), and the position of
 * every fixed sink partition written in the epoch.
 *
 * Fails the worker (and throws its failure) with a `DataflowError` naming the step and the
 * key or partition whose snapshot could not be taken or encoded.
 */
export function collectSnapshots(w: BuiltWorker, target: SnapshotTarget, flowId: string): void {
  const { rt, stateful, inputs, outputs } = w;
  let kind: SnapshotKind = "state";
  let stepId = flowId;
  const put = (key: string, snap: unknown) => {
    if (snap === DISCARDED_STATE) target.del(key);
    else target.put(key, snap);
  };
  try {
    for (const s of stateful) {
      stepId = s.stepId;
      target.step(kind, stepId);
      s.node.forEachChange!(put);
    }
    kind = "source";
    for (const end of inputs) {
      if (!end.isFixed) continue;
      stepId = end.step.id;
      target.step(kind, stepId);
      end.forEachPosition(put);
    }
    kind = "sink";
    for (const end of outputs) {
      if (!end.isFixed) continue;
      stepId = end.step.id;
      target.step(kind, stepId);
      end.forEachPosition(put);
    }
  } catch (err) {
    if (err instanceof SnapshotEncodeError) {
      const where = kind === "state" ? { key: err.key } : { partition: err.key };
      rt.fail(
        new DataflowError(err.stepId, "Cannot store the snapshot", { ...where, cause: err.cause }),
      );
    } else {
      rt.fail(attributeError(err, stepId, "Snapshot failed"));
    }
    throw rt.failure;
  }
}

/** Receives the restored keys of one stateful step (its node, or a router to workers). */
export interface StateTarget {
  /** A key's snapshot (`DISCARDED_STATE` removes the key). */
  restore(key: string, snapshot: unknown): void;
  /** Takes every restored key at once, decoded on first use (instead of `restore`). */
  restoreLazy?(state: LazyKeys): void;
  /** Forgets every restored key (the store recorded a drop of the step's state). */
  resetState?(): void;
}

/** What the flow has that a store may hold state of. */
export interface CheckpointLayout {
  /** The stateful steps, by step id. */
  readonly stateful: ReadonlyMap<string, StateTarget>;
  /** Step ids of fixed-partitioned sources. */
  readonly fixedSources: Iterable<string>;
  /** Step ids of fixed-partitioned sinks. */
  readonly fixedSinks: Iterable<string>;
}

/** The layout of one built worker: restored keys go straight into its nodes. */
export function workerLayout(worker: BuiltWorker): CheckpointLayout {
  // A stateful node (one with forEachChange) restores keys: it is its own StateTarget.
  const stateful = new Map<string, StateTarget>();
  for (const s of worker.stateful) stateful.set(s.stepId, s.node as StateTarget);
  return {
    stateful,
    fixedSources: worker.inputs.filter((i) => i.isFixed).map((i) => i.step.id),
    fixedSinks: worker.outputs.filter((o) => o.isFixed).map((o) => o.step.id),
  };
}

/** A source or sink as the partition check sees it: its step id and listed partitions. */
export interface ListedEnd {
  readonly kind: "source" | "sink";
  readonly stepId: string;
  readonly listed: readonly string[];
}

/** The sources and sinks of an opened worker, for {@linkcode Restorer.checkPartitions}. */
export function listedEnds(worker: BuiltWorker): ListedEnd[] {
  return [
    ...worker.inputs.map((i) => ({ kind: "source" as const, stepId: i.step.id, listed: i.listed })),
    ...worker.outputs.map((o) => ({ kind: "sink" as const, stepId: o.step.id, listed: o.listed })),
  ];
}

/**
 * Replays the store into a flow: each stateful step's keys straight into its
 * {@linkcode StateTarget}, sources' and sinks' positions into maps, and the keys of steps the
 * flow does not have into a tally of orphans (no intermediate map of every key is built).
 */
export class Restorer implements LazyVisitor {
  /** Restored positions of sources and sinks, by `kind:stepId`. */
  readonly positions: RestoredState = new Map();
  private readonly known = new Set<string>();
  /** Keys of steps the flow does not have (only counted: their values are not kept). */
  private readonly orphans = new Map<string, Set<string>>();
  private target: StateTarget | undefined = undefined;
  private map: Map<string, unknown> | undefined = undefined;
  private orphan: Set<string> | undefined = undefined;

  constructor(private readonly layout: CheckpointLayout) {
    for (const id of layout.fixedSources) this.known.add(stateKey("source", id));
    for (const id of layout.fixedSinks) this.known.add(stateKey("sink", id));
  }

  /** True for a step that takes its keys lazily (`lazyState` gets them). */
  step(kind: SnapshotKind, stepId: string): boolean {
    this.target = kind === "state" ? this.layout.stateful.get(stepId) : undefined;
    this.map = this.orphan = undefined;
    if (this.target !== undefined) return this.target.restoreLazy !== undefined;
    const k = stateKey(kind, stepId);
    if (this.known.has(k)) {
      let m = this.positions.get(k);
      if (m === undefined) this.positions.set(k, m = new Map());
      this.map = m;
    } else {
      let o = this.orphans.get(k);
      if (o === undefined) this.orphans.set(k, o = new Set());
      this.orphan = o;
    }
    return false;
  }

  lazyState(_kind: SnapshotKind, stepId: string, state: LazyKeys): void {
    this.layout.stateful.get(stepId)?.restoreLazy?.(state);
  }

  put(key: string, value: unknown): void {
    if (this.target !== undefined) this.target.restore(key, value);
    else if (this.map !== undefined) this.map.set(key, value);
    else this.orphan!.add(key);
  }

  del(key: string): void {
    if (this.target !== undefined) this.target.restore(key, DISCARDED_STATE);
    else (this.map ?? this.orphan)!.delete(key);
  }

  drop(kind: SnapshotKind, stepId: string): void {
    const k = stateKey(kind, stepId);
    if (kind === "state") this.layout.stateful.get(stepId)?.resetState?.();
    this.positions.delete(k);
    this.orphans.delete(k);
    this.target = undefined;
    this.map = this.orphan = undefined;
  }

  /**
   * Refuses stored state of steps the flow does not have, listing them, unless `drop` is
   * set: then the next commit records their drop.
   */
  checkOrphans(store: RecoveryStore, drop: boolean): void {
    const orphans = [...this.orphans].filter(([, keys]) => keys.size > 0);
    if (orphans.length === 0) return;
    if (!drop) {
      const list = orphans.map(([k, keys]) => {
        const [kind, id] = splitStateKey(k);
        return `${id} (${kind}, ${keys.size} keys)`;
      }).join(", ");
      throw new RecoveryError(
        `The recovery store in ${store.backend.description} holds state of steps this flow ` +
          `does not have: ${list}. Put those steps back, or pass dropOrphans: true to delete ` +
          `their state`,
      );
    }
    for (const [k] of orphans) {
      const [kind, id] = splitStateKey(k);
      store.dropStep(kind, id);
    }
  }

  /**
   * Refuses stored positions of source or sink partitions that the flow's (opened) sources
   * and sinks no longer list — a renamed file would otherwise be read again from its start,
   * or a removed output file's position be kept forever — unless `drop` is set: then the next
   * commit deletes them.
   */
  checkPartitions(ends: readonly ListedEnd[], store: RecoveryStore, drop: boolean): void {
    const found: Array<[SnapshotKind, string, string[]]> = [];
    for (const { kind, stepId, listed } of ends) {
      const stored = this.positions.get(stateKey(kind, stepId));
      if (stored === undefined) continue;
      const all = new Set(listed);
      const gone = [...stored.keys()].filter((p) => !all.has(p)).sort();
      if (gone.length > 0) found.push([kind, stepId, gone]);
    }
    if (found.length === 0) return;
    if (!drop) {
      const list = found.flatMap(([kind, id, parts]) =>
        parts.map((p) => `${id} partition ${JSON.stringify(p)} (${kind})`)
      ).join(", ");
      throw new RecoveryError(
        `The recovery store in ${store.backend.description} holds positions of partitions ` +
          `this flow's sources and sinks no longer list: ${list}. A renamed partition would ` +
          `start over from its beginning. List them again (e.g. the same path, spelled the ` +
          `same way), or pass dropOrphans: true to delete their positions`,
      );
    }
    for (const [kind, id, parts] of found) {
      store.dropKeys(kind, id, parts);
      const stored = this.positions.get(stateKey(kind, id))!;
      for (const p of parts) stored.delete(p);
    }
  }
}
