/**
 * deserialize, deserializeValue, deserializeField: decode raw records with a
 * {@linkcode Serde}, splitting them into decoded values (`oks`) and dead letters (`errs`).
 * serialize and serializeValue: the way back, for sinks.
 *
 * @module
 */
import { Stream } from "../dataflow/dataflow.ts";
import { checkStepId, describeType } from "../dataflow/step_id.ts";
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { chainStep, isKeyedPair, notKeyedError } from "../operators/_chain.ts";
import { DeadLetter, previewRaw } from "./dead_letter.ts";
import type { Raw, Serde } from "./serde.ts";

/** Options of {@linkcode deserialize} and its keyed forms. */
export interface DeserializeOptions {
  /**
   * What a malformed record does: `"emit"` (default) puts a {@linkcode DeadLetter} on `errs`
   * and the flow goes on; `"fail"` stops the run with a `DataflowError` naming the step (and
   * the key), the record, and the serde's error as `cause`.
   */
  readonly errors?: "emit" | "fail";
}

/**
 * The two streams of a deserializing step.
 *
 * @typeParam O The decoded items.
 * @typeParam I The raw items, as the step received them.
 */
export interface DeserializeOut<O, I> {
  /** The decoded items, in input order. */
  readonly oks: Stream<O>;
  /** The records that failed to decode, in input order (always empty in `"fail"` mode). */
  readonly errs: Stream<DeadLetter<I>>;
}

/**
 * Decodes each raw item (bytes or text) with `serde`; one bad record becomes a
 * {@linkcode DeadLetter} on `errs` instead of stopping the flow. Like Bytewax's
 * `bytewax.connectors.kafka.operators.deserialize`, for any stream.
 *
 * Per item: one call of `serde.deserialize`; nothing is allocated besides the decoded value
 * (and the dead letter of a bad record).
 *
 * @typeParam O The decoded values.
 * @param stepId The step's name; dead letters carry its fully qualified id.
 * @param up Raw items: `Uint8Array` or `string`.
 * @param serde Decodes one item; throws when it is malformed.
 * @param options `errors: "emit"` (default) or `"fail"`.
 * @returns `{ oks, errs }`.
 *
 * @example JSON records, one of them bad
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { deserialize, type DeadLetter, jsonSerde } from "@weir/weir/serde";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("decode");
 * const raw = flow.input("inp", new TestingSource(['{"n":1}', "{n:2}", '{"n":3}']));
 * const { oks, errs } = deserialize("parse", raw, jsonSerde<{ n: number }>());
 * const good: { n: number }[] = [];
 * const bad: DeadLetter<string | Uint8Array>[] = [];
 * oks.output("good", new TestingSink(good));
 * errs.output("bad", new TestingSink(bad));
 * await runMain(flow);
 * assertEquals(good, [{ n: 1 }, { n: 3 }]);
 * assertEquals(bad.map((l) => [l.stepId, l.raw, (l.reason as Error).name]), [
 *   ["decode.parse", "{n:2}", "SyntaxError"],
 * ]);
 * ```
 */
export function deserialize<O, I extends Raw = Raw>(
  stepId: string,
  up: Stream<I>,
  serde: Serde<O>,
  options: DeserializeOptions = {},
): DeserializeOut<O, I> {
  return deserializeWith<I, O>("deserialize", stepId, up, serde, options, (item, id, fail) => {
    try {
      return serde.deserialize(item);
    } catch (err) {
      if (fail) throw failure(id, item, undefined, err);
      return new DeadLetter(id, item, err);
    }
  });
}

/**
 * Decodes the value of each `[key, raw]` pair, keeping the key: `[key, decoded]` on `oks`,
 * the whole pair in a {@linkcode DeadLetter} on `errs`. Like {@linkcode deserialize}.
 *
 * @typeParam O The decoded values.
 * @param stepId The step's name.
 * @param up `[key, raw]` pairs.
 * @param serde Decodes one value.
 * @param options `errors: "emit"` (default) or `"fail"` (the error names the key).
 * @returns `{ oks, errs }`.
 *
 * @example Keyed UTF-8 values, one of them not UTF-8
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { deserializeValue, stringSerde } from "@weir/weir/serde";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("decode");
 * const raw = flow.input("inp", new TestingSource<[string, Uint8Array]>([
 *   ["a", new Uint8Array([0x68, 0x69])],
 *   ["b", new Uint8Array([0xff])],
 * ]));
 * const { oks, errs } = deserializeValue("utf8", raw, stringSerde);
 * const good: [string, string][] = [];
 * const bad: unknown[] = [];
 * oks.output("good", new TestingSink(good));
 * errs.output("bad", new TestingSink(bad));
 * await runMain(flow);
 * assertEquals(good, [["a", "hi"]]);
 * assertEquals(bad.length, 1);
 * ```
 */
export function deserializeValue<O, I extends Raw = Raw>(
  stepId: string,
  up: Stream<readonly [string, I]> | Stream<[string, I]>,
  serde: Serde<O>,
  options: DeserializeOptions = {},
): DeserializeOut<[string, O], [string, I]> {
  return deserializeWith<[string, I], [string, O]>(
    "deserializeValue",
    stepId,
    up as Stream<[string, I]>,
    serde,
    options,
    (item, id, fail) => {
      if (!isKeyedPair(item)) throw notKeyedError(id, item);
      const key = item[0];
      try {
        return [key, serde.deserialize(item[1])];
      } catch (err) {
        if (fail) throw failure(id, item[1], key, err);
        return new DeadLetter(id, item, err);
      }
    },
  );
}

/**
 * Decodes one field of each record, keeping the others: `{ ...record, [field]: decoded }` on
 * `oks`. This is the form for Kafka messages (`{ key, value: Uint8Array, topic, partition,
 * offset, … }`): `deserializeField("parse", messages, "value", serde)`. A `null` or missing
 * field (a Kafka tombstone) is a bad record: a dead letter, or a failure in `"fail"` mode.
 *
 * @typeParam M The records.
 * @typeParam F The field decoded.
 * @typeParam O The decoded field's type.
 * @param stepId The step's name.
 * @param up The records.
 * @param field The field holding the raw bytes or text.
 * @param serde Decodes the field.
 * @param options `errors: "emit"` (default) or `"fail"`.
 * @returns `{ oks, errs }`; a dead letter carries the whole record.
 *
 * @example Kafka-shaped messages with JSON values
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { deserializeField, jsonSerde } from "@weir/weir/serde";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const enc = new TextEncoder();
 * const messages = [
 *   { key: null, value: enc.encode('{"n":1}'), offset: "0" },
 *   { key: null, value: enc.encode("oops"), offset: "1" },
 * ];
 * const flow = new Dataflow("decode");
 * const raw = flow.input("inp", new TestingSource(messages));
 * const { oks, errs } = deserializeField("parse", raw, "value", jsonSerde<{ n: number }>());
 * const good: unknown[] = [];
 * const bad: { raw: { offset: string } }[] = [];
 * oks.output("good", new TestingSink(good));
 * errs.output("bad", new TestingSink(bad));
 * await runMain(flow);
 * assertEquals(good, [{ key: null, value: { n: 1 }, offset: "0" }]);
 * assertEquals(bad.map((l) => l.raw.offset), ["1"]);
 * ```
 */
export function deserializeField<
  M extends { readonly [k in F]: Raw | null | undefined },
  F extends keyof M,
  O,
>(
  stepId: string,
  up: Stream<M>,
  field: F,
  serde: Serde<O>,
  options: DeserializeOptions = {},
): DeserializeOut<Omit<M, F> & { [k in F]: O }, M> {
  return deserializeWith<M, Omit<M, F> & { [k in F]: O }>(
    "deserializeField",
    stepId,
    up,
    serde,
    options,
    (item, id, fail) => {
      let decoded: O;
      try {
        if (item === null || typeof item !== "object") {
          throw new TypeError(`Expected a record with field ${String(field)}`);
        }
        const raw = item[field] as Raw | null | undefined;
        if (raw === null || raw === undefined) {
          throw new TypeError(
            `Field ${JSON.stringify(String(field))} is ${raw}: there is nothing to deserialize`,
          );
        }
        decoded = serde.deserialize(raw);
      } catch (err) {
        if (fail) throw failure(id, item, undefined, err);
        return new DeadLetter(id, item, err);
      }
      return { ...item, [field]: decoded } as Omit<M, F> & { [k in F]: O };
    },
  );
}

/**
 * Encodes each item with `serde` (for sinks that take bytes). A value the serde refuses stops
 * the run with a `DataflowError` naming the step: a value the flow made is a bug, not a bad
 * record.
 *
 * @param stepId The step's name.
 * @param serde Encodes one value.
 *
 * @example
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { jsonSerde, serialize } from "@weir/weir/serde";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: Uint8Array[] = [];
 * const flow = new Dataflow("encode");
 * flow.input("inp", new TestingSource([{ n: 1 }]))
 *   .pipe(serialize("json", jsonSerde()))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(new TextDecoder().decode(out[0]), '{"n":1}');
 * ```
 */
export function serialize<T>(stepId: string, serde: Serde<T>): WeirOperator<T, Uint8Array> {
  checkSerde("serialize", stepId, serde);
  return chainStep<T, Uint8Array>("serialize", stepId, (_ctx, down) => (item) => {
    down.next(serde.serialize(item));
  });
}

/**
 * Encodes the value of each `[key, value]` pair, keeping the key. Like {@linkcode serialize}.
 *
 * @param stepId The step's name.
 * @param serde Encodes one value.
 *
 * @example
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { serializeValue, stringSerde } from "@weir/weir/serde";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, Uint8Array][] = [];
 * const flow = new Dataflow("encode");
 * flow.input("inp", new TestingSource<[string, string]>([["k", "hi"]]))
 *   .pipe(serializeValue("utf8", stringSerde))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["k", new Uint8Array([0x68, 0x69])]]);
 * ```
 */
export function serializeValue<V>(
  stepId: string,
  serde: Serde<V>,
): WeirOperator<readonly [string, V], [string, Uint8Array]> {
  checkSerde("serializeValue", stepId, serde);
  return chainStep<readonly [string, V], [string, Uint8Array]>(
    "serializeValue",
    stepId,
    (ctx, down) => (item) => {
      if (!isKeyedPair(item)) throw notKeyedError(ctx.stepId, item);
      const key = item[0];
      let bytes: Uint8Array;
      try {
        bytes = serde.serialize(item[1] as V);
      } catch (err) {
        throw new DataflowError(ctx.stepId, `Cannot serialize the value`, { key, cause: err });
      }
      down.next([key, bytes]);
    },
  );
}

/** The composite shared by the deserialize forms: decode, then split by `instanceof`. */
function deserializeWith<I, O>(
  opType: string,
  stepId: string,
  up: Stream<I>,
  serde: Serde<unknown>,
  options: DeserializeOptions,
  decode: (item: I, id: string, fail: boolean) => O | DeadLetter<I>,
): DeserializeOut<O, I> {
  checkStepId(stepId);
  if (!(up instanceof Stream)) {
    throw new TypeError(
      `${opType}("${stepId}") needs a Stream to read, got ${describeType(up)}; did you forget ` +
        `to destructure the result of an operator that returns several streams?`,
    );
  }
  checkSerde(opType, stepId, serde);
  const mode = options?.errors ?? "emit";
  if (mode !== "emit" && mode !== "fail") {
    throw new RangeError(
      `${opType}("${stepId}"): errors must be "emit" or "fail", got ${JSON.stringify(mode)}`,
    );
  }
  const fail = mode === "fail";
  return up.flow.composite(stepId, opType, (scope) => {
    const id = scope.id;
    const tagged = scope.pipe(
      up,
      chainStep<I, O | DeadLetter<I>>(opType, "decode", (_ctx, down) => (item) => {
        down.next(decode(item, id, fail));
      }),
    );
    return {
      oks: scope.pipe(
        tagged,
        chainStep<O | DeadLetter<I>, O>("filter", "oks", (_ctx, down) => (item) => {
          if (!(item instanceof DeadLetter)) down.next(item);
        }),
      ),
      errs: scope.pipe(
        tagged,
        chainStep<O | DeadLetter<I>, DeadLetter<I>>("filter", "errs", (_ctx, down) => (item) => {
          if (item instanceof DeadLetter) down.next(item);
        }),
      ),
    };
  });
}

function failure(stepId: string, raw: unknown, key: string | undefined, cause: unknown) {
  return new DataflowError(
    stepId,
    `Cannot deserialize ${previewRaw(raw)} (errors: "fail"; pass errors: "emit" to route ` +
      `bad records to errs)`,
    { key, cause },
  );
}

function checkSerde(opType: string, stepId: string, serde: unknown): void {
  const s = serde as Partial<Serde<unknown>> | null;
  if (
    s === null || typeof s !== "object" || typeof s.deserialize !== "function" ||
    typeof s.serialize !== "function"
  ) {
    throw new TypeError(
      `${opType}("${stepId}") needs a serde with deserialize and serialize functions, got ${
        describeType(serde)
      }`,
    );
  }
}
