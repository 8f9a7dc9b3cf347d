// Compile-time checks of the serde and file-format types: `deno check` fails if an inference
// here regresses or a `@ts-expect-error` line stops being an error.
import { assertEquals } from "@std/assert";
import { Dataflow, type Stream } from "../../mod.ts";
import {
  type DeadLetter,
  deserialize,
  deserializeField,
  deserializeValue,
  isDeadLetter,
  jsonSerde,
  stringSerde,
} from "../../src/serde/mod.ts";
import { type CSVRow, CSVSource } from "../../connectors/csv.ts";
import { JSONLinesSource } from "../../connectors/jsonl.ts";
import { TestingSource } from "../../src/testing/mod.ts";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_proof: T): void {}

interface Msg {
  key: Uint8Array | null;
  value: Uint8Array | null;
  topic: string;
  partition: number;
  offset: string;
}

Deno.test("deserialize forms type oks and errs", () => {
  const flow = new Dataflow("types");
  const raw = flow.input("a", new TestingSource(["1"]));
  const a = deserialize("a_de", raw, jsonSerde<{ n: number }>());
  expectType<Equals<typeof a.oks, Stream<{ n: number }>>>(true);
  expectType<Equals<typeof a.errs, Stream<DeadLetter<string>>>>(true);

  const pairs = flow.input("b", new TestingSource<[string, Uint8Array]>([]));
  const b = deserializeValue("b_de", pairs, stringSerde);
  expectType<Equals<typeof b.oks, Stream<[string, string]>>>(true);
  expectType<Equals<typeof b.errs, Stream<DeadLetter<[string, Uint8Array]>>>>(true);

  const msgs = flow.input("c", new TestingSource<Msg>([]));
  const c = deserializeField("c_de", msgs, "value", jsonSerde<{ n: number }>());
  const decoded: Stream<{ key: Uint8Array | null; value: { n: number }; partition: number }> =
    c.oks;
  expectType<Equals<typeof c.errs, Stream<DeadLetter<Msg>>>>(true);
  // @ts-expect-error: the partition is a number, neither bytes nor text
  deserializeField("d_de", msgs, "partition", stringSerde);
  // @ts-expect-error: numbers are not raw records
  deserialize("e_de", flow.input("e", new TestingSource([1])), stringSerde);
  assertEquals(decoded.id, "types.c_de.oks.down");
});

Deno.test('file sources type their records; badRecords: "emit" adds dead letters, branch(isDeadLetter) splits them', () => {
  const flow = new Dataflow("files");
  const rows = flow.input("a", new CSVSource("x.csv"));
  expectType<Equals<typeof rows, Stream<CSVRow>>>(true);
  const mixed = flow.input("b", new CSVSource("x.csv", { badRecords: "emit" }));
  expectType<Equals<typeof mixed, Stream<CSVRow | DeadLetter<string>>>>(true);
  const { trues, falses } = mixed.branch("split", isDeadLetter);
  expectType<Equals<typeof trues, Stream<DeadLetter<string>>>>(true);
  expectType<Equals<typeof falses, Stream<CSVRow>>>(true);
  const values = flow.input(
    "c",
    new JSONLinesSource<{ n: number }, "emit">("x.jsonl", { badRecords: "emit" }),
  );
  expectType<Equals<typeof values, Stream<{ n: number } | DeadLetter<string>>>>(true);
  assertEquals(falses.id, "files.split.falses");
});
