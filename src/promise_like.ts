/**
 * `isPromiseLike`, for every layer: sources (`src/io/`) and the runtime both tell a value from a
 * thenable, and neither should import the other to do it.
 *
 * @module
 */

/** True for Promises and other thenables. */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<T>).then === "function";
}
