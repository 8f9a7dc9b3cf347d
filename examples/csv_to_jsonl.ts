/**
 * CSV to JSON lines: parse a CSV file of orders, turn each row into a typed record, write them
 * as JSON lines, and write the rows that do not parse to a dead-letter file.
 *
 *   deno run --allow-read=examples/data --allow-write=DIR examples/csv_to_jsonl.ts DIR
 *
 * Prints:
 *   rejected: examples/data/orders.csv line 6: Invalid Record Length: columns length is 4, got 2
 *
 * and writes `DIR/orders.jsonl`:
 *   {"id":1,"customer":"Smith, Ada","cents":1250,"note":null}
 *   {"id":2,"customer":"Bob","cents":300,"note":"said \"hi\""}
 *   {"id":3,"customer":"Cid","cents":725,"note":"two\nlines"}
 *   {"id":5,"customer":"Eve","cents":2000,"note":"last"}
 *
 * and `DIR/rejected.jsonl`, one dead letter per bad row (step, raw text, reason, path, line).
 *
 * `CSVSource` reads RFC 4180 CSV (quoted commas, doubled quotes, line breaks inside quotes)
 * with the header naming the fields; `badRecords: "emit"` turns a row that does not parse
 * into a `DeadLetter` instead of stopping the run, and `branch(…, isDeadLetter)` splits them
 * off. Both sinks are exactly-once: with a recovery store (see recovery.ts), a resumed run
 * truncates them to the last committed epoch. The input path is relative to the current
 * directory.
 *
 * @module
 */
import { map } from "rxjs";
import { Dataflow, keyOn, run } from "@weir/weir";
import { isDeadLetter } from "@weir/weir/serde";
import { CSVSource } from "@weir/weir/connectors/csv";
import { JSONLinesSink } from "@weir/weir/connectors/jsonl";
import { StdOutSink } from "@weir/weir/connectors/stdio";

/** An order as written to JSON lines. */
export interface Order {
  readonly id: number;
  readonly customer: string;
  readonly cents: number;
  readonly note: string | null;
}

/** A CSV row (all fields are text) as an order. */
export function toOrder(row: Record<string, string>): Order {
  return {
    id: Number(row.id),
    customer: row.customer ?? "",
    cents: Math.round(Number(row.amount) * 100),
    note: row.note === "" || row.note === undefined ? null : row.note,
  };
}

/** The flow: `input` CSV → orders in `outDir/orders.jsonl`, bad rows in `outDir/rejected.jsonl`. */
export function csvToJsonl(input: string, outDir: string): Dataflow {
  const flow = new Dataflow("csv_to_jsonl");
  const { trues: rejected, falses: rows } = flow
    .input("orders", new CSVSource(input, { badRecords: "emit" }))
    .branch("split", isDeadLetter);
  rows
    .pipe(map(toOrder), keyOn("all", () => "all"))
    .output("jsonl", new JSONLinesSink(`${outDir}/orders.jsonl`));
  rejected
    .pipe(keyOn("all_rejected", () => "all"))
    .output("dead_letters", new JSONLinesSink(`${outDir}/rejected.jsonl`));
  rejected
    .pipe(map((l) => `rejected: ${l.path} line ${l.line}: ${(l.reason as Error).message}`))
    .output("report", new StdOutSink());
  return flow;
}

if (import.meta.main) {
  const outDir = Deno.args[0];
  if (outDir === undefined) {
    console.error("usage: csv_to_jsonl.ts OUT_DIR");
    Deno.exit(2);
  }
  await run(csvToJsonl("examples/data/orders.csv", outDir));
}
