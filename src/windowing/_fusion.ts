/**
 * The capabilities the window driver's fused paths need, each declared by a class:
 *
 * - an event clock (`declareEventClock`): the fused paths read items' timestamps with its
 *   `tsGetter` and run `EventClock`'s watermark formulas (`_window_math.ts`) themselves;
 * - a tumbling windower (`declareTumbling`): the fused tumbling path computes window ids and
 *   bounds with the sliding-window formulas for `offset = length`;
 * - a session windower (`declareSession`): the fused session path keeps the key's sessions
 *   and runs `SessionWindower`'s rules (extend within the gap, merge into the earlier session,
 *   close more than the gap after the end, ids sequential or by time) itself;
 * - an inline fold (`declareInlineFold`): a window logic whose `onValue(v)` is exactly
 *   `acc = folder.call(logic, acc, v)` with no output, and whose other methods read only `acc`,
 *   so the fused paths may fold a window's values into `acc` without calling `onValue` (the
 *   tumbling path even into a copy of `acc` it keeps, written back before calling anything
 *   else on the logic).
 *
 * A capability belongs to the class that declares it, not to its subclasses: the check is
 * `object.constructor`, so a user subclass that overrides a method (and could change what the
 * formulas assume) takes the general path unless it is declared itself. Internal: nothing here
 * is part of the public API.
 *
 * The fused drivers themselves register here too (`registerFusedDrivers`, called by
 * `fused_drivers.ts` when it is loaded): `mod.ts` loads them, the browser bundle's entry
 * (`src/browser.ts`) does not, to stay within its size budget; there every window runs the
 * general path, with the same results and snapshots, only slower.
 *
 * @module
 */
import type { LogicContext } from "../operators/stateful_batch_logic.ts";
import type { PerValueLogic } from "../operators/_per_value_logic.ts";
import type { WindowBuilder } from "./window_logic.ts";
import type { KeyWindowsState, WindowEvent } from "./_window_events.ts";

/** What the fused paths need of an event clock. */
export interface EventClockParams<V> {
  /** The item's timestamp (checked with `eventTime`). */
  readonly tsGetter: (value: V) => number | Date;
  /** How long (ms of system time) the watermark trails the largest timestamp. */
  readonly waitFor: number;
}

/** What the fused path needs of a tumbling windower: windows of `length` ms from `alignTo`. */
export interface TumblingParams {
  /** Window length (and offset) in ms. */
  readonly length: number;
  /** A window start, epoch ms. */
  readonly alignTo: number;
}

/** What the fused session path needs of a session windower. */
export interface SessionParams {
  /** The longest quiet time (ms) inside a session. */
  readonly gap: number;
  /** How session ids are made (`SessionWindower`'s `ids` option). */
  readonly ids: "sequential" | "time";
}

/** A window logic the fused paths fold inline (see the module doc). */
export interface InlineFold<V, A> {
  /** The window's accumulator. */
  acc: A;
  /** Folds a value into `acc`; called with the logic as `this`. */
  readonly folder: (acc: A, value: V) => A;
}

// deno-lint-ignore no-explicit-any
type Class<T> = abstract new (...args: any[]) => T;

const eventClocks = new Map<unknown, (clock: never) => EventClockParams<unknown> | undefined>();
const tumblings = new Map<unknown, (windower: never) => TumblingParams | undefined>();
const sessions = new Map<unknown, (windower: never) => SessionParams | undefined>();
const inlineFolds = new Set<unknown>();

/** Declares that instances of `cls` (not of its subclasses) are event clocks, with `params`. */
export function declareEventClock<T>(
  cls: Class<T>,
  params: (clock: T) => EventClockParams<unknown> | undefined,
): void {
  eventClocks.set(cls, params as (clock: never) => EventClockParams<unknown> | undefined);
}

/**
 * Declares that instances of `cls` (not of its subclasses) tumble when `params` says so (it
 * returns `undefined` for an instance that does not).
 */
export function declareTumbling<T>(
  cls: Class<T>,
  params: (windower: T) => TumblingParams | undefined,
): void {
  tumblings.set(cls, params as (windower: never) => TumblingParams | undefined);
}

/**
 * Declares that instances of `cls` (not of its subclasses) make session windows as
 * `SessionWindower` does, with `params`.
 */
export function declareSession<T>(
  cls: Class<T>,
  params: (windower: T) => SessionParams | undefined,
): void {
  sessions.set(cls, params as (windower: never) => SessionParams | undefined);
}

/** Declares that instances of `cls` (not of its subclasses) are {@linkcode InlineFold}s. */
export function declareInlineFold(cls: Class<InlineFold<never, unknown>>): void {
  inlineFolds.add(cls);
}

/** The clock's event-clock parameters when its class declared them, else `undefined`. */
export function eventClockParams<V>(clock: object): EventClockParams<V> | undefined {
  const params = eventClocks.get(clock.constructor);
  return params?.(clock as never) as EventClockParams<V> | undefined;
}

/** The windower's tumbling parameters when its class declared them, else `undefined`. */
export function tumblingParams(windower: object): TumblingParams | undefined {
  return tumblings.get(windower.constructor)?.(windower as never);
}

/** The windower's session parameters when its class declared them, else `undefined`. */
export function sessionParams(windower: object): SessionParams | undefined {
  return sessions.get(windower.constructor)?.(windower as never);
}

/** True when `logic`'s class declared itself an {@linkcode InlineFold}. */
export function isInlineFold<V>(logic: object): logic is InlineFold<V, unknown> {
  return inlineFolds.has(logic.constructor);
}

/** A fused driver's constructor: a key's window logic, given the declared parameters. */
export type FusedDriver<P> = new <V, W, S>(
  clock: EventClockParams<V>,
  params: P,
  ordered: boolean,
  meta: boolean,
  builder: WindowBuilder<V, W, S>,
  ctx: LogicContext,
  resume: KeyWindowsState | undefined,
) => PerValueLogic<V, WindowEvent, KeyWindowsState>;

/** The fused drivers, once registered. */
export interface FusedDrivers {
  /** For an event clock with tumbling windows. */
  readonly tumbling: FusedDriver<TumblingParams>;
  /** For an event clock with session windows. */
  readonly session: FusedDriver<SessionParams>;
}

let drivers: FusedDrivers | undefined;

/** Called once by `fused_drivers.ts`: window operators built from then on may fuse. */
export function registerFusedDrivers(fused: FusedDrivers): void {
  drivers = fused;
}

/** The registered fused drivers, or undefined where `fused_drivers.ts` is not loaded. */
export function fusedDrivers(): FusedDrivers | undefined {
  return drivers;
}
