/**
 * The per-key (or per-window) state of a join, shared by `join` and `joinWindow`.
 *
 * @module
 */
import { type Dataflow, type Scope, Stream } from "../dataflow/dataflow.ts";
import { checkStepId, describeType } from "../dataflow/step_id.ts";
import { checkStream } from "./_check_stream.ts";
import { mapValue } from "./map_value.ts";

/** Which values of a side a join keeps (see `join`). */
export type JoinInsertMode = "first" | "last" | "product";

/** When a join emits (see `join`). */
export type JoinEmitMode = "complete" | "final" | "running";

/** A value tagged with the index of its side. */
export type SideValue = readonly [side: number, value: unknown];

/** Computes the joined tuples of one key's state: the cross product of the sides' values. */
export function joinTuples(sides: readonly (readonly unknown[])[]): unknown[][] {
  let out: unknown[][] = [[]];
  for (const values of sides) {
    const options = values.length > 0 ? values : [undefined];
    const next: unknown[][] = [];
    for (const prefix of out) for (const v of options) next.push([...prefix, v]);
    out = next;
  }
  return out;
}

/**
 * Checks a join's arguments at definition time (TypeError): the step id, the sides (an array
 * of streams of one flow) and the options (an object, not a further side); returns the flow
 * of the sides. The modes are checked by {@linkcode checkJoinModes}.
 */
export function checkJoinArgs(
  op: string,
  stepId: string,
  sides: unknown,
  options: unknown,
): Dataflow {
  checkStepId(stepId);
  if (sides instanceof Stream) {
    throw new TypeError(
      `${op}("${stepId}"): sides must be an array of streams, got a Stream; pass the sides ` +
        `in one array, e.g. ${op}("${stepId}", [left, right], options)`,
    );
  }
  if (!Array.isArray(sides) || sides.length === 0) {
    throw new TypeError(`${op}("${stepId}") needs an array of at least one keyed stream`);
  }
  let flow: Dataflow | undefined;
  for (let i = 0; i < sides.length; i++) {
    flow = checkStream(op, stepId, `sides[${i}]`, sides[i], flow);
  }
  if (options instanceof Stream) {
    throw new TypeError(
      `${op}("${stepId}"): options must be an options object, got a Stream; pass every side ` +
        `in the array, e.g. ${op}("${stepId}", [left, right], options)`,
    );
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${op}("${stepId}"): options must be an options object, got ${describeType(options)}`,
    );
  }
  return flow!;
}

/** Throws a RangeError naming the operator and step for an unknown mode. */
export function checkJoinModes(
  op: string,
  stepId: string,
  insertMode: string,
  emitMode: string,
): void {
  if (!["first", "last", "product"].includes(insertMode)) {
    throw new RangeError(`${op}("${stepId}"): unknown join insert mode "${insertMode}"`);
  }
  if (!["complete", "final", "running"].includes(emitMode)) {
    throw new RangeError(`${op}("${stepId}"): unknown join emit mode "${emitMode}"`);
  }
}

/** Tags each side's values with its index (substeps `side_N`) and merges them (`merge`). */
export function tagAndMerge(
  scope: Scope,
  sides: readonly Stream<readonly [string, unknown]>[],
): Stream<[string, SideValue]> {
  const tagged = sides.map((side, i) =>
    scope.pipe(side, mapValue(`side_${i}`, (v: unknown): SideValue => [i, v]))
  );
  return scope.merge("merge", ...tagged) as Stream<[string, SideValue]>;
}

/** The values held for each side, with the insert and emit rules. */
export class JoinState {
  /** Per side, the values kept (at most one unless the insert mode is product). */
  vals: unknown[][];

  constructor(
    private readonly sides: number,
    private readonly insertMode: JoinInsertMode,
    private readonly emitMode: JoinEmitMode,
    resume?: unknown[][],
  ) {
    this.vals = resume ? resume.map((v) => [...v]) : this.#empty();
  }

  #empty(): unknown[][] {
    return Array.from({ length: this.sides }, () => []);
  }

  /** Inserts side `i`'s value; returns the tuples the emit mode emits now. */
  insert(i: number, v: unknown): unknown[][] {
    const side = this.vals[i]!;
    if (this.insertMode === "last") this.vals[i] = [v];
    else if (this.insertMode === "product" || side.length === 0) side.push(v);
    if (this.emitMode === "running") return joinTuples(this.vals);
    if (this.emitMode === "complete" && this.vals.every((s) => s.length > 0)) {
      const out = joinTuples(this.vals);
      this.vals = this.#empty();
      return out;
    }
    return [];
  }

  /** True when no side holds a value. */
  isEmpty(): boolean {
    return this.vals.every((s) => s.length === 0);
  }

  /** The tuples of the current values, if any side has one. */
  tuples(): unknown[][] {
    return this.isEmpty() ? [] : joinTuples(this.vals);
  }

  /** At the end (EOF or window close): the tuples in final mode, nothing otherwise. */
  finalTuples(): unknown[][] {
    return this.emitMode === "final" ? this.tuples() : [];
  }

  /** Absorbs a later state (merged session windows). */
  absorb(other: JoinState): void {
    this.vals = this.vals.map((mine, i) => {
      const theirs = other.vals[i]!;
      if (this.insertMode === "product") return [...mine, ...theirs];
      if (this.insertMode === "first") return mine.length > 0 ? mine : theirs;
      return theirs.length > 0 ? theirs : mine;
    });
  }

  /** A copy of the values, for snapshots. */
  snapshot(): unknown[][] {
    return this.vals.map((s) => [...s]);
  }
}
