/**
 * Step and flow id rules, shared by the definition API and every operator factory.
 *
 * @module
 */

/**
 * Throws unless `stepId` is a valid step name: a non-empty string without periods (periods
 * separate the levels of a fully qualified id such as `flow.step.substep`).
 */
export function checkStepId(stepId: unknown, what = "Step id"): asserts stepId is string {
  if (typeof stepId !== "string") {
    throw new TypeError(`${what} must be a string, got ${describeType(stepId)}`);
  }
  if (stepId.length === 0) throw new RangeError(`${what} must not be empty`);
  if (stepId.includes(".")) {
    throw new RangeError(`${what} "${stepId}" can't contain a period`);
  }
}

/** A short description of a value's type for error messages. */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const t = typeof value;
  if (t === "object") {
    const ctor = (value as object).constructor?.name;
    return ctor && ctor !== "Object" ? `an instance of ${ctor}` : "an object";
  }
  return t === "undefined" ? "undefined" : `a ${t}`;
}
