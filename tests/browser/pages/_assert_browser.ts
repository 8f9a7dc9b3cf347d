/**
 * `@std/assert` for the browser test pages: tests/_assert.ts rests on `node:assert/strict`,
 * which browsers do not have, so the pages are bundled with `@std/assert` mapped here. Same
 * names and argument order, for the functions the pages (and the conformance suite) use.
 *
 * @module
 */

/** An assertion failed. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg?: string): asserts expr {
  if (!expr) throw new AssertionError(msg ?? "expected a truthy value");
}

/** Structural equality: primitives by `Object.is`, typed arrays, arrays, Maps, plain objects. */
function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !equal(v, m.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) {
    const x = v as unknown as ArrayLike<number>;
    const head = Array.from({ length: Math.min(x.length, 16) }, (_, i) => x[i]).join(",");
    return `${v.constructor.name}(${x.length})[${head}${x.length > 16 ? ",…" : ""}]`;
  }
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Asserts deep (structural) equality of `actual` and `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) {
    throw new AssertionError(
      `${msg ? `${msg}: ` : ""}expected ${show(expected).slice(0, 2000)}, got ${
        show(actual).slice(0, 2000)
      }`,
    );
  }
}

/** Asserts that `actual` contains `expected` as a substring. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  assert(
    actual.includes(expected),
    msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(
  err: unknown,
  errorClass: ErrorClass<E> | undefined,
  msgIncludes: string | undefined,
): E {
  if (errorClass !== undefined && !(err instanceof errorClass)) {
    throw new AssertionError(
      `expected error to be an instance of ${errorClass.name}, got ${
        err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)
      }`,
    );
  }
  if (msgIncludes !== undefined) {
    const message = err instanceof Error ? err.message : String(err);
    assert(
      message.includes(msgIncludes),
      `expected error message to include ${JSON.stringify(msgIncludes)}, got ${
        JSON.stringify(message)
      }`,
    );
  }
  return err as E;
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
  throw new AssertionError(msg ?? "expected promise to reject");
}
