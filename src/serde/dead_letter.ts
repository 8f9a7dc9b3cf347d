/**
 * DeadLetter: a record a step could not handle, kept with its reason instead of stopping the
 * flow.
 *
 * @module
 */

/** Where a {@linkcode DeadLetter} was found in a file, for file sources. */
export interface DeadLetterLocation {
  /** The file's path. */
  readonly path?: string;
  /** The 1-based line where the bad record starts. */
  readonly line?: number;
}

/**
 * A record that a step could not handle: the raw record as it came, the reason (the original
 * error) and the fully qualified id of the step, plus the file path and line for file
 * sources. Deserializers with `errors: "emit"` put these on their `errs` stream; file sources
 * with `badRecords: "emit"` emit them among their records (split them off with
 * `branch(id, isDeadLetter)`). Write them to a sink of their own: a dead-letter queue.
 *
 * @typeParam R The raw record's type.
 *
 * @example Reading a dead letter
 * ```ts
 * import { DeadLetter, isDeadLetter } from "@weir/weir/serde";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const letter = new DeadLetter("flow.parse", "{oops", new SyntaxError("Bad JSON"));
 * assert(isDeadLetter(letter));
 * assertEquals(letter.message, 'Step "flow.parse" could not handle "{oops": Bad JSON');
 * assertEquals(letter.toJSON(), {
 *   stepId: "flow.parse",
 *   raw: "{oops",
 *   reason: "Bad JSON",
 *   path: undefined,
 *   line: undefined,
 * });
 * ```
 */
export class DeadLetter<R = unknown> {
  /** The file's path, for file sources. */
  readonly path: string | undefined;
  /** The 1-based line where the record starts, for file sources. */
  readonly line: number | undefined;

  /**
   * A record a step refused, with the reason.
   *
   * @param stepId The fully qualified id of the step that refused the record.
   * @param raw The record as the step received it.
   * @param reason Why: the original error.
   * @param where The file and line, for file sources.
   */
  constructor(
    readonly stepId: string,
    readonly raw: R,
    readonly reason: unknown,
    where?: DeadLetterLocation,
  ) {
    this.path = where?.path;
    this.line = where?.line;
  }

  /** One line saying which step refused which record, where, and why. */
  get message(): string {
    const at = this.path === undefined
      ? ""
      : ` at ${JSON.stringify(this.path)}${this.line === undefined ? "" : ` line ${this.line}`}`;
    return `Step "${this.stepId}" could not handle ${previewRaw(this.raw)}${at}: ${
      reasonText(this.reason)
    }`;
  }

  /** A JSON-friendly form (the reason as its message; bytes as an array), for dead-letter files. */
  toJSON(): {
    stepId: string;
    raw: unknown;
    reason: string;
    path: string | undefined;
    line: number | undefined;
  } {
    const raw = this.raw instanceof Uint8Array ? Array.from(this.raw) : this.raw;
    return {
      stepId: this.stepId,
      raw,
      reason: reasonText(this.reason),
      path: this.path,
      line: this.line,
    };
  }
}

/**
 * Tells whether `value` is a {@linkcode DeadLetter}: the predicate for `branch`.
 *
 * @example
 * ```ts
 * import { DeadLetter, isDeadLetter } from "@weir/weir/serde";
 * import { assert } from "@std/assert";
 *
 * assert(isDeadLetter(new DeadLetter("f.s", "x", new Error("bad"))));
 * assert(!isDeadLetter({ raw: "x" }));
 * ```
 */
export function isDeadLetter<T>(value: T): value is DeadLettersOf<T> {
  return value instanceof DeadLetter;
}

/**
 * The dead letters among `T`: `Extract<T, DeadLetter>`, or `DeadLetter` when `T` is
 * `unknown`. What {@linkcode isDeadLetter} narrows to, so that `branch(id, isDeadLetter)`
 * types both streams.
 */
export type DeadLettersOf<T> = unknown extends T ? DeadLetter & T
  // deno-lint-ignore no-explicit-any
  : Extract<T, DeadLetter<any>>;

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** A short rendering of a raw record: strings as JSON, bytes as their length and first bytes. */
export function previewRaw(raw: unknown): string {
  if (raw instanceof Uint8Array) {
    const head = Array.from(raw.subarray(0, 16), (b) => b.toString(16).padStart(2, "0"));
    return `${raw.length} bytes [${head.join(" ")}${raw.length > 16 ? " ..." : ""}]`;
  }
  let s: string;
  try {
    s = JSON.stringify(raw) ?? String(raw);
  } catch {
    s = String(raw);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
