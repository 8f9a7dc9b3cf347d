/**
 * Restored state as maps (`RestoredState`, what `RecoveryStore.load` returns) and the visitor
 * that builds them from segments.
 *
 * @module
 */
import type { SegmentVisitor, SnapshotKind } from "./segment.ts";

/** Restored state: per `kind:stepId` (see {@linkcode stateKey}), each key's snapshot. */
export type RestoredState = Map<string, Map<string, unknown>>;

/** The map key of a step's entries in {@linkcode RestoredState}. */
export function stateKey(kind: SnapshotKind, stepId: string): string {
  return kind + ":" + stepId;
}

/** Splits a {@linkcode stateKey}. */
export function splitStateKey(k: string): [SnapshotKind, string] {
  const i = k.indexOf(":");
  return [k.slice(0, i) as SnapshotKind, k.slice(i + 1)];
}

/**
 * A visitor replaying segments into per-step maps of key → value (or → encoded size with
 * `sizes`), applying discards and drops.
 */
export function mapVisitor(
  into: Map<string, Map<string, unknown>>,
  sizes = false,
): SegmentVisitor {
  let current: Map<string, unknown> | undefined;
  let currentKey = "";
  return {
    step(kind, stepId) {
      currentKey = stateKey(kind, stepId);
      current = into.get(currentKey);
    },
    put(key, value, size) {
      if (current === undefined) into.set(currentKey, current = new Map());
      current.set(key, sizes ? size : value);
    },
    del(key) {
      current?.delete(key);
    },
    drop(kind, stepId) {
      const k = stateKey(kind, stepId);
      into.delete(k);
      if (k === currentKey) current = undefined;
    },
  };
}
