/**
 * Definition-time checks of the streams an operator is given: a readable `TypeError` instead
 * of a failure deep inside the composite ("Cannot read properties of undefined").
 *
 * @module
 */
import { type Dataflow, Stream } from "../dataflow/dataflow.ts";
import { describeType } from "../dataflow/step_id.ts";

/**
 * Throws a TypeError unless `value` is a {@linkcode Stream} (of `flow`, when given): names the
 * operator, the step, the argument (`what`, e.g. `sides[1]`) and what was given, with a hint
 * for the usual mistakes (an undefined name destructured from a result, or the record of
 * streams a multi-output operator returns). Returns the stream's flow.
 */
export function checkStream(
  op: string,
  stepId: string,
  what: string,
  value: unknown,
  flow?: Dataflow,
): Dataflow {
  if (!(value instanceof Stream)) {
    const streams = value !== null && typeof value === "object" && !Array.isArray(value)
      ? Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] instanceof Stream)
      : [];
    const got = streams.length > 0
      ? `an object holding the streams ${streams.join(", ")}; pass one of them, e.g. .${streams[0]}`
      : value === undefined
      ? `undefined; did you forget to destructure the result of an operator that returns ` +
        `several streams, like branch?`
      : describeType(value);
    throw new TypeError(`${op}("${stepId}"): ${what} must be a Stream, got ${got}`);
  }
  if (flow !== undefined && value.flow !== flow) {
    throw new TypeError(
      `${op}("${stepId}"): ${what} is stream "${value.id}" of dataflow ` +
        `"${value.flow.flowId}", not of "${flow.flowId}" like the first`,
    );
  }
  return value.flow;
}
