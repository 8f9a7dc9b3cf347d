/**
 * Serde and dead letters: turn raw records (bytes or text) into values and back, routing records
 * that do not decode to an `errs` stream of {@linkcode DeadLetter}s instead of stopping the flow.
 * Browser-safe. Avro lives in `@weir/weir/serde/avro`.
 *
 * @example Parse JSON, keep the bad records apart
 * ```ts
 * import { map } from "rxjs";
 * import { Dataflow } from "@weir/weir";
 * import { deserialize, jsonSerde } from "@weir/weir/serde";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const good: unknown[] = [];
 * const bad: string[] = [];
 * const flow = new Dataflow("parse");
 * const lines = flow.input("inp", new TestingSource(['{"a":1}', "{oops"]));
 * const { oks, errs } = deserialize("json", lines, jsonSerde(), { errors: "emit" });
 * oks.output("good", new TestingSink(good));
 * errs.pipe(map((d) => String(d.raw))).output("bad", new TestingSink(bad));
 * await runMain(flow);
 * assertEquals(good, [{ a: 1 }]);
 * assertEquals(bad, ["{oops"]);
 * ```
 *
 * @module
 */
export {
  DeadLetter,
  type DeadLetterLocation,
  type DeadLettersOf,
  isDeadLetter,
} from "./dead_letter.ts";
export { jsonSerde, type Raw, type Serde, stringSerde } from "./serde.ts";
export {
  deserialize,
  deserializeField,
  type DeserializeOptions,
  type DeserializeOut,
  deserializeValue,
  serialize,
  serializeValue,
} from "./deserialize.ts";
