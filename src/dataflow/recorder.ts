/**
 * What a `Dataflow` records: its steps in definition order, the step names taken per scope,
 * and how `pipe`'s operators become steps (a run of plain RxJS operators one `rx` step, a weir
 * operator the step its `StepSpec` describes). Works on stream ids only.
 *
 * @module
 */
import { checkStepId, describeType } from "./step_id.ts";
import { type AnyOperator, type StepSpec, stepSpecOf } from "./op.ts";
import type { StepRecord } from "./graph.ts";

/** The steps of one dataflow and the names they take; `Dataflow` records through it. */
export class StepRecorder {
  /** The recorded steps, in definition (topological) order. */
  readonly steps: StepRecord[] = [];
  readonly #names = new Map<string, Set<string>>();
  readonly #autoCounters = new Map<string, number>();

  /**
   * Records the steps of operators applied to stream `upStreamId` in `scope`; returns the
   * resulting stream id. `what` names the call in error messages.
   */
  expand(scope: string, upStreamId: string, ops: readonly AnyOperator[], what: string): string {
    let current = upStreamId;
    let plain: AnyOperator[] = [];
    const flushPlain = () => {
      if (plain.length === 0) return;
      const name = this.#autoName(scope, "pipe");
      current = this.#addRx(scope, name, "pipe", current, plain);
      plain = [];
    };
    ops.forEach((op, i) => {
      if (typeof op !== "function") {
        throw new TypeError(
          `Argument ${i + 1} of ${what} in "${scope}" must be an RxJS operator function, got ${
            describeType(op)
          }`,
        );
      }
      const spec = stepSpecOf(op);
      if (spec === undefined) {
        plain.push(op);
        return;
      }
      flushPlain();
      current = this.#addSpec(scope, spec, current);
    });
    flushPlain();
    return current;
  }

  #addSpec(scope: string, spec: StepSpec, up: string): string {
    const id = this.register(scope, spec.name);
    const base = { id, name: spec.name, opType: spec.opType, parent: scope, ups: [up] };
    switch (spec.kind) {
      case "chain":
        this.steps.push({ ...base, kind: "chain", downs: [`${id}.down`], spec });
        return `${id}.down`;
      case "node":
        this.steps.push({ ...base, kind: "node", downs: [`${id}.down`], spec });
        return `${id}.down`;
      case "scope": {
        if (spec.ops.every((op) => typeof op === "function" && stepSpecOf(op) === undefined)) {
          // Only plain RxJS operators: one step carrying the scope's own name.
          if (spec.ops.length === 0) return up;
          this.steps.push({ ...base, kind: "rx", downs: [`${id}.down`], ops: spec.ops });
          return `${id}.down`;
        }
        const record = { ...base, kind: "scope" as const, downs: [] as string[] };
        this.steps.push(record);
        const down = this.expand(id, up, spec.ops, `step "${id}"`);
        record.downs.push(down);
        return down;
      }
    }
  }

  #addRx(scope: string, name: string, opType: string, up: string, ops: AnyOperator[]): string {
    const id = `${scope}.${name}`;
    this.steps.push({
      kind: "rx",
      id,
      name,
      opType,
      parent: scope,
      ups: [up],
      downs: [`${id}.down`],
      ops,
    });
    return `${id}.down`;
  }

  /** Checks a step name and reserves it in `scope`; returns the step id. */
  register(scope: string, name: string): string {
    checkStepId(name);
    let names = this.#names.get(scope);
    if (names === undefined) this.#names.set(scope, names = new Set());
    const id = `${scope}.${name}`;
    if (names.has(name)) {
      throw new RangeError(
        `Step "${id}" already exists; do you have two steps with the same id?`,
      );
    }
    names.add(name);
    return id;
  }

  #autoName(scope: string, prefix: string): string {
    const names = this.#names.get(scope) ?? new Set<string>();
    this.#names.set(scope, names);
    let n = this.#autoCounters.get(scope) ?? 0;
    let name: string;
    do name = `${prefix}_${++n}`; while (names.has(name));
    this.#autoCounters.set(scope, n);
    names.add(name);
    return name;
  }
}
