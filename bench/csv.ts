/**
 * File format benchmark, ratios measured in one process: file → parse → count per key →
 * file, through weir vs the parser alone.
 *
 *   deno task bench:csv                 # 1M records
 *   deno task bench:csv -- 200000       # fewer
 *
 * 1. CSV: `CSVSource` (header → objects) → `countFinal` by city → `JSONLinesSink`, vs the
 *    same work with `csv-parse` alone: read the whole file, `parse(text, { columns: true })`
 *    in one call (its fastest use: no stream, no per-chunk calls), count in a `Map`, write
 *    the counts as JSON lines. A quarter of the records have a quoted field holding a comma,
 *    a doubled quote or a line break.
 * 2. JSON lines: `JSONLinesSource` → `countFinal` → `JSONLinesSink`, vs reading the whole
 *    file, `split("\n")`, `JSON.parse` per line, a `Map`, the same output.
 *
 * Rounds alternate baseline/weir; the median of the ratios weir/baseline throughput is
 * printed (1.00 = as fast as the parser alone). Both outputs are checked equal.
 *
 * @module
 */
import { parse } from "csv-parse/sync";
import { countFinal, Dataflow, run } from "../mod.ts";
import { CSVSource } from "../connectors/csv.ts";
import { JSONLinesSink, JSONLinesSource } from "../connectors/jsonl.ts";

const N = Number(Deno.args.filter((a) => a !== "--")[0] ?? 1_000_000);
const KEYS = 1000;
const ROUNDS = 3;

const dir = await Deno.makeTempDir({ prefix: "weir_bench_csv_" });
const csvPath = `${dir}/in.csv`;
const jsonlPath = `${dir}/in.jsonl`;
{
  const csv: string[] = ["id,city,amount,note\n"];
  const jsonl: string[] = [];
  for (let i = 0; i < N; i++) {
    const city = `city${(i * 7919) % KEYS}`;
    const note = i % 4 === 0 ? ["a, b", 'say "hi"', "two\nlines"][i % 3]! : "plain";
    const quoted = /[,"\n]/.test(note) ? `"${note.replaceAll('"', '""')}"` : note;
    csv.push(`${i},${city},${(i % 1000) / 10},${quoted}\n`);
    jsonl.push(JSON.stringify({ id: i, city, amount: (i % 1000) / 10, note }) + "\n");
  }
  await Deno.writeTextFile(csvPath, csv.join(""));
  await Deno.writeTextFile(jsonlPath, jsonl.join(""));
}

/** Counts as JSON lines, sorted by key (countFinal emits in sorted key order at EOF). */
async function writeCounts(path: string, counts: Map<string, number>): Promise<void> {
  const keys = [...counts.keys()].sort();
  await Deno.writeTextFile(path, keys.map((k) => JSON.stringify(counts.get(k)) + "\n").join(""));
}

async function csvBaseline(out: string): Promise<void> {
  const text = await Deno.readTextFile(csvPath);
  const rows = parse(text, { columns: true }) as Record<string, string>[];
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.city!, (counts.get(r.city!) ?? 0) + 1);
  await writeCounts(out, counts);
}

async function jsonlBaseline(out: string): Promise<void> {
  const lines = (await Deno.readTextFile(jsonlPath)).split("\n");
  const counts = new Map<string, number>();
  for (const line of lines) {
    if (line === "") continue;
    const city = (JSON.parse(line) as { city: string }).city;
    counts.set(city, (counts.get(city) ?? 0) + 1);
  }
  await writeCounts(out, counts);
}

async function csvWeir(out: string): Promise<void> {
  const flow = new Dataflow("bench_csv");
  flow.input("inp", new CSVSource(csvPath))
    .pipe(countFinal("count", (r) => r.city!))
    .output("out", new JSONLinesSink<number>(out));
  await run(flow);
}

async function jsonlWeir(out: string): Promise<void> {
  const flow = new Dataflow("bench_jsonl");
  flow.input("inp", new JSONLinesSource<{ city: string }>(jsonlPath))
    .pipe(countFinal("count", (r) => r.city))
    .output("out", new JSONLinesSink<number>(out));
  await run(flow);
}

async function timed(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compare(
  name: string,
  baseline: (out: string) => Promise<void>,
  weir: (out: string) => Promise<void>,
): Promise<void> {
  const bytes = (await Deno.stat(name === "CSV" ? csvPath : jsonlPath)).size;
  console.log(`${name}: ${N} records, ${(bytes / 1e6).toFixed(1)} MB, ${KEYS} keys`);
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const tBase = await timed(() => baseline(`${dir}/base.jsonl`));
    const tWeir = await timed(() => weir(`${dir}/weir.jsonl`));
    const [a, b] = await Promise.all([
      Deno.readTextFile(`${dir}/base.jsonl`),
      Deno.readTextFile(`${dir}/weir.jsonl`),
    ]);
    if (a !== b) throw new Error(`${name}: weir's counts differ from the baseline's`);
    ratios.push(tBase / tWeir);
    console.log(
      `  round ${r + 1}: parser alone ${(N / tBase / 1000).toFixed(2)} M rec/s, weir ` +
        `${(N / tWeir / 1000).toFixed(2)} M rec/s, ratio ${(tBase / tWeir).toFixed(2)}`,
    );
  }
  console.log(`  median ratio weir/parser alone: ${median(ratios).toFixed(2)}`);
}

try {
  await compare("CSV", csvBaseline, csvWeir);
  await compare("JSON lines", jsonlBaseline, jsonlWeir);
} finally {
  await Deno.remove(dir, { recursive: true });
}
