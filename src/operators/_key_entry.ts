/**
 * The per-key slot of `statefulBatch`'s runtime node (`_stateful_batch_node.ts`) and the list
 * the node keeps its activation's keys in.
 *
 * @module
 */
import { TimerSlot } from "./_key_timers.ts";
import type { PerValueLogic } from "./_per_value_logic.ts";

/** `KeyEntry.first` when the key holds no `mapValue` output. */
export const NO_OUTPUT: unique symbol = Symbol("weir.noOutput");

/**
 * A key's slot: its logic, and the values it received in the current activation. It is also
 * the key's slot in the node's timer queue (setting the timer needs no lookup).
 */
export class KeyEntry<V, W, S> extends TimerSlot {
  logic: PerValueLogic<V, W, S> | undefined = undefined;
  batch: V[] | undefined = undefined;
  /** The `notifyAt` value that fired since the key's last values (it does not fire twice). */
  fired: number | undefined = undefined;
  /** Touched in the current activation (its `notifyAt` is re-read at the end). */
  touched = false;
  /** The epoch sequence number in which the key was last recorded as changed. */
  changedIn = -1;
  /** Values were folded through `onValue` in the current activation. */
  folded = false;
  /** Outputs `onValue` returned in the current activation, emitted at its end. */
  held: W[] | undefined = undefined;
  /** `mapValue`'s first output in the current activation ({@linkcode NO_OUTPUT}: none). */
  first: W | typeof NO_OUTPUT = NO_OUTPUT;
  /** The node's flush count when the key last got a value (a new count: first value since). */
  seen = -1;
  /** The key's place in the node's `active` list in this activation (-1: none yet). */
  activeIndex = -1;
  /** The key's slot in the TTL queue (with `ttl`). */
  expiry: TimerSlot | undefined = undefined;
}

/**
 * A list of entries that keeps its array between activations (`length = 0` would free the
 * array's storage, and the next activation would grow it again).
 */
export class EntryList<E> {
  readonly items: Array<E | undefined> = [];
  /** How many items are in the list. */
  n = 0;
  push(e: E | undefined): void {
    this.items[this.n++] = e;
  }
}
