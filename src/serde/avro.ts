/**
 * Avro serde on `avsc` (the maintained Avro implementation for JavaScript, used by the
 * Confluent schema-registry clients): {@linkcode avroSerde}.
 *
 * Its own subpath, `@weir/weir/serde/avro`, so that flows without Avro load neither `avsc`
 * nor `node:buffer` (avsc reads and writes Node `Buffer`s: Deno, Node and Bun have them; a
 * browser bundle needs a `buffer` polyfill).
 *
 * @module
 */
import avro from "avsc";
import { Buffer } from "node:buffer";
import type { Raw, Serde } from "./serde.ts";

/** An Avro schema as JSON (a record, an enum, a primitive name…), as avsc's `Type.forSchema` takes it. */
export type AvroSchema = Parameters<typeof avro.Type.forSchema>[0];

/**
 * Avro binary encoding (no container header, no schema-registry prefix) of one schema given
 * in code. Deserializing throws when the bytes do not hold exactly one value of the schema
 * (truncated, trailing bytes, a bad union index or enum symbol); serializing throws when the
 * value does not match the schema (avsc's message names the field). Records decode to
 * instances of avsc's generated record class (plain fields, a class named after the record);
 * `bytes` and `fixed` fields decode to Node `Buffer`s (which are `Uint8Array`s).
 *
 * @typeParam T The values, as the schema describes them (not checked at compile time).
 * @param schema The writer's (and reader's) schema.
 * @returns The serde.
 * @throws {Error} When avsc refuses the schema.
 *
 * @example A record
 * ```ts
 * import { avroSerde } from "@weir/weir/serde/avro";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const serde = avroSerde<{ id: number; name: string }>({
 *   type: "record",
 *   name: "User",
 *   fields: [{ name: "id", type: "int" }, { name: "name", type: "string" }],
 * });
 * const bytes = serde.serialize({ id: 7, name: "Ada" });
 * assertEquals(bytes, new Uint8Array([14, 6, 65, 100, 97]));
 * assertEquals({ ...serde.deserialize(bytes) }, { id: 7, name: "Ada" });
 * assertThrows(() => serde.deserialize(new Uint8Array([14, 6, 65])), Error, "truncated");
 * ```
 */
export function avroSerde<T = unknown>(schema: AvroSchema): Serde<T> {
  const type = avro.Type.forSchema(schema);
  return {
    deserialize(raw: Raw): T {
      let buf: Buffer;
      if (raw instanceof Uint8Array) {
        buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      } else if (typeof raw === "string") {
        throw new TypeError("Avro needs bytes (a Uint8Array), got a string");
      } else {
        throw new TypeError(`Avro needs bytes (a Uint8Array), got ${typeof raw}`);
      }
      const res = type.decode(buf, 0);
      if (res.offset < 0) {
        throw new RangeError(
          `Avro record of ${buf.length} bytes is truncated: it ends inside a ${typeName(type)}`,
        );
      }
      if (res.offset !== buf.length) {
        throw new RangeError(
          `Avro record of ${buf.length} bytes has ${plural(buf.length - res.offset, "byte")} ` +
            `left after a whole ${typeName(type)} (wrong schema, or several values in one record)`,
        );
      }
      return res.value as T;
    },
    serialize(value: T): Uint8Array {
      const buf = type.toBuffer(value);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
  };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function typeName(type: { name?: string; typeName: string }): string {
  return type.name ?? type.typeName;
}
