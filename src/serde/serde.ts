/**
 * Serdes: turning bytes into values and back. {@linkcode stringSerde} (UTF-8) and
 * {@linkcode jsonSerde} are built in; Avro is in `@weir/weir/serde/avro`.
 *
 * @module
 */

/** The raw form a deserializer accepts: bytes (Kafka values, files) or text. */
export type Raw = Uint8Array | string;

/**
 * Turns raw records into values and values into bytes.
 *
 * Contract: `deserialize` throws when the record is malformed (the error becomes a dead
 * letter's reason, or the cause of the DataflowError in `"fail"` mode); it must not keep a
 * reference to the bytes it got unless it copies them (a connector may reuse its buffer).
 * `serialize` returns a fresh `Uint8Array`.
 *
 * @typeParam T The values.
 *
 * @example A serde of its own: numbers as decimal text
 * ```ts
 * import { type Serde, stringSerde } from "@weir/weir/serde";
 * import { assertEquals } from "@std/assert";
 *
 * const decimal: Serde<number> = {
 *   deserialize(raw) {
 *     const n = Number(stringSerde.deserialize(raw));
 *     if (Number.isNaN(n)) throw new SyntaxError("Not a number");
 *     return n;
 *   },
 *   serialize: (n) => stringSerde.serialize(String(n)),
 * };
 * assertEquals(decimal.deserialize(new TextEncoder().encode("42")), 42);
 * ```
 */
export interface Serde<T> {
  /** Decodes one raw record; throws when it is malformed. */
  deserialize(raw: Raw): T;
  /** Encodes one value. */
  serialize(value: T): Uint8Array;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * UTF-8 text. Deserializing refuses bytes that are not well-formed UTF-8 (a `TypeError`, so
 * the record becomes a dead letter instead of text with U+FFFD in it); a string passes
 * through.
 *
 * @example
 * ```ts
 * import { stringSerde } from "@weir/weir/serde";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(stringSerde.deserialize(new Uint8Array([0x68, 0xc3, 0xa9])), "hé");
 * assertEquals(stringSerde.serialize("hé"), new Uint8Array([0x68, 0xc3, 0xa9]));
 * assertThrows(() => stringSerde.deserialize(new Uint8Array([0xff])), TypeError);
 * ```
 */
export const stringSerde: Serde<string> = {
  deserialize(raw: Raw): string {
    if (typeof raw === "string") return raw;
    if (!(raw instanceof Uint8Array)) throw notRaw(raw);
    return strictDecoder.decode(raw);
  },
  serialize(value: string): Uint8Array {
    if (typeof value !== "string") {
      throw new TypeError(`stringSerde serializes strings, got ${typeof value}`);
    }
    return encoder.encode(value);
  },
};

/**
 * JSON in UTF-8. Deserializing throws the `SyntaxError` of `JSON.parse` (or the `TypeError`
 * of malformed UTF-8); serializing refuses what `JSON.stringify` cannot render
 * (`undefined`, a function).
 *
 * @typeParam T The values, as the caller expects them (not checked).
 *
 * @example
 * ```ts
 * import { jsonSerde } from "@weir/weir/serde";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const serde = jsonSerde<{ n: number }>();
 * assertEquals(serde.deserialize(new TextEncoder().encode('{"n":1}')), { n: 1 });
 * assertEquals(new TextDecoder().decode(serde.serialize({ n: 2 })), '{"n":2}');
 * assertThrows(() => serde.deserialize("{n:1}"), SyntaxError);
 * ```
 */
export function jsonSerde<T = unknown>(): Serde<T> {
  return {
    deserialize(raw: Raw): T {
      return JSON.parse(stringSerde.deserialize(raw)) as T;
    },
    serialize(value: T): Uint8Array {
      const text = JSON.stringify(value);
      if (text === undefined) {
        throw new TypeError(`JSON cannot represent a value of type ${typeof value}`);
      }
      return encoder.encode(text);
    },
  };
}

function notRaw(raw: unknown): TypeError {
  const what = raw === null
    ? "null"
    : typeof raw === "object"
    ? (raw as object).constructor?.name ?? "object"
    : typeof raw;
  return new TypeError(`Expected a Uint8Array or a string to deserialize, got ${what}`);
}
