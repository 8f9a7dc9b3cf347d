/**
 * A stand-in for `jsr:@std/assert`, which cannot be fetched in this build environment.
 *
 * deno.json maps `@std/assert` to this file; every function keeps the name and argument order
 * of its @std/assert counterpart, so pointing the import map back at `jsr:@std/assert@^1` is a
 * one-line change. Deep equality and diffs come from `node:assert/strict`; nothing here
 * compares values by hand.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** An assertion failed. */
export const AssertionError: typeof nodeAssert.AssertionError = nodeAssert.AssertionError;

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg?: string): asserts expr {
  nodeAssert.ok(expr, msg);
}

/** Asserts deep (structural) equality of `actual` and `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts that `actual` and `expected` are not deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Asserts `Object.is(actual, expected)`. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  nodeAssert.strictEqual(actual, expected, msg);
}

/** Asserts that `actual` is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  nodeAssert.ok(actual !== null && actual !== undefined, msg ?? `expected a value, got ${actual}`);
}

/** Asserts that `actual` matches the regular expression `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}

/** Asserts that `actual` contains `expected` as a substring. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  nodeAssert.ok(
    actual instanceof expectedType,
    msg ?? `expected an instance of ${expectedType.name}, got ${String(actual)}`,
  );
}

/** Asserts that `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual < expected, msg ?? `expected ${actual} < ${expected}`);
}

/** Asserts that `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual <= expected, msg ?? `expected ${actual} <= ${expected}`);
}

/** Asserts that `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual > expected, msg ?? `expected ${actual} > ${expected}`);
}

/** Asserts that `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual >= expected, msg ?? `expected ${actual} >= ${expected}`);
}

/** Fails unconditionally. */
export function fail(msg?: string): never {
  nodeAssert.fail(msg ?? "Failed assertion");
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(
  err: unknown,
  errorClass: ErrorClass<E> | undefined,
  msgIncludes: string | undefined,
): E {
  if (errorClass !== undefined && !(err instanceof errorClass)) {
    nodeAssert.fail(
      `expected error to be an instance of ${errorClass.name}, got ${
        err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)
      }`,
    );
  }
  if (msgIncludes !== undefined) {
    const message = err instanceof Error ? err.message : String(err);
    nodeAssert.ok(
      message.includes(msgIncludes),
      `expected error message to include ${JSON.stringify(msgIncludes)}, got ${
        JSON.stringify(message)
      }`,
    );
  }
  return err as E;
}

/** Asserts that `fn` throws; returns the thrown error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClass?: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): E {
  try {
    fn();
  } catch (err) {
    return checkError(err, errorClass, msgIncludes);
  }
  nodeAssert.fail(msg ?? "expected function to throw");
}

/** Asserts that `fn()` rejects; resolves to the rejection reason. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClass?: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, errorClass, msgIncludes);
  }
  nodeAssert.fail(msg ?? "expected promise to reject");
}
