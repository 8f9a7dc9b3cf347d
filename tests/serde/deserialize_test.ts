import { Dataflow, DataflowError } from "../../mod.ts";
import {
  DeadLetter,
  deserialize,
  deserializeField,
  deserializeValue,
  jsonSerde,
  serialize,
  serializeValue,
  stringSerde,
} from "../../src/serde/mod.ts";
import { avroSerde } from "../../src/serde/avro.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";

const enc = new TextEncoder();

Deno.test("deserialize with stringSerde: bad UTF-8 goes to errs with the raw bytes and the step id", async () => {
  const bad = new Uint8Array([0x61, 0xc3]); // a truncated 2-byte sequence
  const flow = new Dataflow("f");
  const raw = flow.input("inp", new TestingSource([enc.encode("héllo"), bad, enc.encode("")]));
  const { oks, errs } = deserialize("utf8", raw, stringSerde);
  const good: string[] = [];
  const letters: DeadLetter<Uint8Array | string>[] = [];
  oks.output("good", new TestingSink(good));
  errs.output("bad", new TestingSink(letters));
  await runMain(flow);
  assertEquals(good, ["héllo", ""]);
  assertEquals(letters.length, 1);
  const [letter] = letters;
  assertInstanceOf(letter, DeadLetter);
  assertEquals(letter.stepId, "f.utf8");
  assert(letter.raw === bad, "the dead letter carries the very record it got");
  assertInstanceOf(letter.reason, TypeError);
  assertEquals(
    letter.message,
    `Step "f.utf8" could not handle 2 bytes [61 c3]: ${(letter.reason as Error).message}`,
  );
});

Deno.test("deserialize with jsonSerde keeps order and JSON null; bad lines become dead letters", async () => {
  const flow = new Dataflow("f");
  const raw = flow.input("inp", new TestingSource(["1", "null", "{", '"s"', "[1,]"]));
  const { oks, errs } = deserialize("json", raw, jsonSerde());
  const good: unknown[] = [];
  const bad: DeadLetter<string>[] = [];
  oks.output("good", new TestingSink(good));
  errs.output("bad", new TestingSink(bad));
  await runMain(flow);
  assertEquals(good, [1, null, "s"]);
  assertEquals(bad.map((l) => [l.stepId, l.raw, (l.reason as Error).name]), [
    ["f.json", "{", "SyntaxError"],
    ["f.json", "[1,]", "SyntaxError"],
  ]);
});

Deno.test("deserialize in fail mode stops the run naming the step and the record", async () => {
  const flow = new Dataflow("f");
  const raw = flow.input("inp", new TestingSource(['{"a":1}', "{oops"]));
  const { oks } = deserialize("json", raw, jsonSerde(), { errors: "fail" });
  const good: unknown[] = [];
  oks.output("good", new TestingSink(good));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertEquals(err.stepId, "f.json");
  assertInstanceOf(err.cause, SyntaxError);
  assertEquals(
    err.message,
    `Step "f.json": Cannot deserialize "{oops" (errors: "fail"; pass errors: "emit" to route ` +
      `bad records to errs): ${err.cause.message}`,
  );
});

Deno.test("deserializeValue decodes the value side and names the key in fail mode", async () => {
  const flow = new Dataflow("f");
  const raw = flow.input(
    "inp",
    new TestingSource<[string, Uint8Array]>([["a", enc.encode('{"n":1}')], ["b", enc.encode("x")]]),
  );
  const { oks, errs } = deserializeValue("json", raw, jsonSerde());
  const good: unknown[] = [];
  const bad: DeadLetter<[string, Uint8Array]>[] = [];
  oks.output("good", new TestingSink(good));
  errs.output("bad", new TestingSink(bad));
  await runMain(flow);
  assertEquals(good, [["a", { n: 1 }]]);
  assertEquals(bad.map((l) => l.raw[0]), ["b"]);

  const flow2 = new Dataflow("g");
  const raw2 = flow2.input("inp", new TestingSource<[string, string]>([["k9", "x"]]));
  deserializeValue("json", raw2, jsonSerde(), { errors: "fail" }).oks.output(
    "out",
    new TestingSink([]),
  );
  const err = await assertRejects(() => runMain(flow2), DataflowError);
  assertEquals(err.key, "k9");
  assert(err.message.startsWith('Step "g.json" for key "k9": Cannot deserialize "x"'));
});

Deno.test("deserializeField decodes a Kafka-shaped message's value and keeps the other fields", async () => {
  const serde = avroSerde<{ id: number; tags: string[] }>({
    type: "record",
    name: "Ev",
    fields: [{ name: "id", type: "long" }, {
      name: "tags",
      type: { type: "array", items: "string" },
    }],
  });
  const good = serde.serialize({ id: 5, tags: ["x", "y"] });
  const truncated = good.subarray(0, good.length - 1);
  const trailing = new Uint8Array([...good, 0]);
  const msgs = [good, truncated, trailing].map((value, i) => ({
    key: enc.encode(`k${i}`),
    value,
    topic: "t",
    partition: 0,
    offset: String(i),
  }));
  const flow = new Dataflow("f");
  const raw = flow.input("inp", new TestingSource(msgs));
  const { oks, errs } = deserializeField("avro", raw, "value", serde);
  const out: { value: { id: number; tags: string[] }; offset: string; topic: string }[] = [];
  const bad: DeadLetter<(typeof msgs)[number]>[] = [];
  oks.output("good", new TestingSink(out));
  errs.output("bad", new TestingSink(bad));
  await runMain(flow);
  assertEquals(
    out.map((m) => [m.topic, m.offset, { ...m.value }]),
    [["t", "0", { id: 5, tags: ["x", "y"] }]],
  );
  assertEquals(bad.map((l) => [l.raw.offset, (l.reason as Error).message]), [
    ["1", "Avro record of 6 bytes is truncated: it ends inside a Ev"],
    [
      "2",
      "Avro record of 8 bytes has 1 byte left after a whole Ev (wrong schema, or several " +
      "values in one record)",
    ],
  ]);
});

Deno.test("serialize and serializeValue round-trip through the serdes", async () => {
  const flow = new Dataflow("f");
  const out: Uint8Array[] = [];
  const keyed: [string, Uint8Array][] = [];
  const inp = flow.input("inp", new TestingSource([{ n: 1 }, { n: 2 }]));
  inp.pipe(serialize("json", jsonSerde())).output("out", new TestingSink(out));
  flow.input("kv", new TestingSource<[string, string]>([["a", "é"]]))
    .pipe(serializeValue("utf8b", stringSerde))
    .output("out2", new TestingSink(keyed));
  await runMain(flow);
  assertEquals(out.map((b) => jsonSerde().deserialize(b)), [{ n: 1 }, { n: 2 }]);
  assertEquals(keyed, [["a", new Uint8Array([0xc3, 0xa9])]]);
});

Deno.test("deserialize refuses a bad errors mode and a missing serde at definition time", () => {
  const flow = new Dataflow("f");
  const raw = flow.input("inp", new TestingSource(["x"]));
  let err: unknown;
  try {
    deserialize("a", raw, jsonSerde(), { errors: "skip" as "emit" });
  } catch (e) {
    err = e;
  }
  assertInstanceOf(err, RangeError);
  assertEquals(err.message, `deserialize("a"): errors must be "emit" or "fail", got "skip"`);
  try {
    deserialize("b", raw, undefined as never);
  } catch (e) {
    err = e;
  }
  assertInstanceOf(err, TypeError);
  assertEquals(
    err.message,
    `deserialize("b") needs a serde with deserialize and serialize functions, got undefined`,
  );
});

Deno.test("deserializeField: a null value (a Kafka tombstone) is a dead letter, not a crash", async () => {
  const flow = new Dataflow("f");
  const msgs = [{ key: "k", value: null as Uint8Array | null, offset: "7" }];
  const { oks, errs } = deserializeField(
    "parse",
    flow.input("inp", new TestingSource(msgs)),
    "value",
    stringSerde,
  );
  const good: unknown[] = [];
  const bad: DeadLetter<(typeof msgs)[number]>[] = [];
  oks.output("good", new TestingSink(good));
  errs.output("bad", new TestingSink(bad));
  await runMain(flow);
  assertEquals(good, []);
  assertEquals(bad.map((l) => [l.raw.offset, (l.reason as Error).message]), [
    ["7", `Field "value" is null: there is nothing to deserialize`],
  ]);
});
