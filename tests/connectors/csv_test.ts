import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { countFinal, Dataflow, DataflowError, keyOn, run, statefulMap } from "../../mod.ts";
import { type DeadLetter, isDeadLetter } from "../../src/serde/mod.ts";
import { CSVSink, CSVSource, type FilePosition } from "../../connectors/csv.ts";
import { JSONLinesSink } from "../../connectors/jsonl.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { abortAfter, crashOptions, ctx, drain, withDir } from "./_file_flows.ts";

// A BOM, CRLF line ends, a comma, doubled quotes and a CRLF inside quoted fields, empty
// fields (quoted and not), an empty line, and a last record without a line end.
const TRICKY = "\uFEFFid,name,note\r\n" +
  '1,"Smith, Ada","said ""hi"""\r\n' +
  '2,Bob,"two\r\nlines"\r\n' +
  "3,,\r\n" +
  "\r\n" +
  '4,"",x\r\n' +
  '5,"multi\nline\nfield",end';

const TRICKY_ROWS = [
  { id: "1", name: "Smith, Ada", note: 'said "hi"' },
  { id: "2", name: "Bob", note: "two\r\nlines" },
  { id: "3", name: "", note: "" },
  { id: "4", name: "", note: "x" },
  { id: "5", name: "multi\nline\nfield", note: "end" },
];

Deno.test("CSVSource: quoting, CRLF, line breaks in fields, BOM, empty fields and lines, header → objects", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    await Deno.writeTextFile(path, TRICKY);
    const rows: unknown[] = [];
    const flow = new Dataflow("f");
    flow.input("inp", new CSVSource(path)).output("out", new TestingSink(rows));
    await runMain(flow);
    assertEquals(rows, TRICKY_ROWS);
  });
});

Deno.test("CSVSource: columns given for a file without header; another delimiter", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    await Deno.writeTextFile(path, 'a;"b;c"\nd;e\n');
    const part = await new CSVSource(path, { columns: ["x", "y"], delimiter: ";" })
      .buildPart("f.inp", path, undefined, ctx);
    assertEquals(await drain(part), [[{ x: "a", y: "b;c" }, { x: "d", y: "e" }]]);
    assertEquals(part.snapshot(), { offset: 12, line: 3 });
    await part.close?.();
  });
});

Deno.test("CSVSource resumes at every record boundary, whatever the chunk size, with the right line numbers", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    await Deno.writeTextFile(path, TRICKY);
    const size = (await Deno.stat(path)).size;
    for (const chunkSize of [1, 2, 3, 7, 64]) {
      const source = new CSVSource(path, { batchSize: 1, chunkSize });
      const positions: FilePosition[] = [];
      const full = await source.buildPart("f.inp", path, undefined, ctx);
      positions.push(full.snapshot());
      for (let b = await full.nextBatch(); Array.isArray(b); b = await full.nextBatch()) {
        positions.push(full.snapshot());
      }
      await full.close?.();
      // Header after the BOM, then each record; the empty line is a record of no rows.
      assertEquals(positions.map((p) => p.line), [2, 3, 5, 6, 7, 8, 10]);
      assertEquals(positions.at(-1)!.offset, size);
      for (let k = 0; k < positions.length; k++) {
        // Crash after k records: resume from the k-th snapshot and read the rest.
        const first = await source.buildPart("f.inp", path, undefined, ctx);
        const before: unknown[] = [];
        for (let i = 0; i < k; i++) before.push(...(await first.nextBatch() as unknown[]));
        const snap = first.snapshot();
        await first.close?.();
        assertEquals(snap, positions[k]);
        const resumed = await source.buildPart("f.inp", path, snap, ctx);
        const after = (await drain(resumed)).flat();
        await resumed.close?.();
        assertEquals([...before, ...after], TRICKY_ROWS, `chunk ${chunkSize}, resumed at ${k}`);
      }
    }
  });
});

Deno.test("CSVSource: a ragged row fails the run naming the step, the path and its line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    // Line 3 holds a line break inside quotes, so the ragged row is on line 5.
    await Deno.writeTextFile(path, 'a,b\n1,2\n"x\ny",3\n3\n4,5\n');
    const flow = new Dataflow("f");
    flow.input("inp", new CSVSource(path)).output("out", new TestingSink([]));
    const err = await assertRejects(() => runMain(flow), DataflowError);
    assertEquals(err.stepId, "f.inp");
    assertEquals(err.partition, path);
    assertEquals(
      err.message,
      `Step "f.inp" on partition ${JSON.stringify(path)}: Failed to read the next batch: ` +
        `Cannot parse the CSV record at ${JSON.stringify(path)} line 5: Invalid Record ` +
        `Length: columns length is 2, got 1; fix the file, or pass badRecords: "emit" to ` +
        `route bad records to a dead-letter stream`,
    );
    assertEquals(
      (err.cause as Error & { cause: { code: string } }).cause.code,
      "CSV_RECORD_INCONSISTENT_COLUMNS",
    );
  });
});

Deno.test("CSVSource: bad records as dead letters (ragged, unclosed quote at the end), good ones kept in order", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    await Deno.writeTextFile(path, 'a,b\n1,2\n3\n4,5\n6,"7\n8,9\n');
    const flow = new Dataflow("f");
    const { trues: bad, falses: rows } = flow
      .input("inp", new CSVSource(path, { badRecords: "emit", batchSize: 2 }))
      .branch("split", isDeadLetter);
    const good: Record<string, string>[] = [];
    const letters: DeadLetter<string>[] = [];
    rows.output("good", new TestingSink(good));
    bad.output("bad", new TestingSink(letters));
    await runMain(flow);
    assertEquals(good, [{ a: "1", b: "2" }, { a: "4", b: "5" }]);
    assertEquals(
      letters.map((l) => [l.stepId, l.path, l.line, l.raw, (l.reason as Error).message]),
      [
        ["f.inp", path, 3, "3\n", "Invalid Record Length: columns length is 2, got 1"],
        [
          "f.inp",
          path,
          5,
          '6,"7\n8,9\n',
          "Quote Not Closed: the parsing is finished with an opening quote",
        ],
      ],
    );
  });
});

Deno.test("CSVSource: relaxColumnCount keeps ragged rows", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    await Deno.writeTextFile(path, "a,b\n1\n2,3\n");
    const part = await new CSVSource(path, { relaxColumnCount: true })
      .buildPart("f.inp", path, undefined, ctx);
    assertEquals(await drain(part), [[{ a: "1" }, { a: "2", b: "3" }]]);
    await part.close?.();
  });
});

Deno.test("CSVSource refuses a resume position beyond the end, an empty file, bad options", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    await Deno.writeTextFile(path, "a\n1\n");
    const err = await assertRejects(
      () => new CSVSource(path).buildPart("f.inp", path, { offset: 99, line: 9 }, ctx),
      RangeError,
    );
    assertEquals(
      err.message,
      `Cannot resume reading ${JSON.stringify(path)} at byte 99: the file has only 4 bytes ` +
        `now (it was truncated or replaced since the snapshot)`,
    );
    await Deno.writeTextFile(path, "");
    const empty = await assertRejects(
      () => new CSVSource(path).buildPart("f.inp", path, undefined, ctx),
      Error,
    );
    assertEquals(
      empty.message,
      `Cannot read the CSV header of ${JSON.stringify(path)}: the file is empty`,
    );
    await Deno.writeTextFile(path, 'a,"b\n1,2\n');
    const header = await assertRejects(
      () => new CSVSource(path).buildPart("f.inp", path, undefined, ctx),
      Error,
    );
    assertEquals(
      header.message,
      `Cannot parse the CSV header of ${JSON.stringify(path)} (line 1): Quote Not Closed: the ` +
        `parsing is finished with an opening quote; fix the file, or give the column names in ` +
        `options.columns`,
    );
    const e = assertThrows(() => new CSVSource(path, { badRecords: "skip" as "fail" }), RangeError);
    assertEquals(e.message, `badRecords must be "fail" or "emit", got "skip"`);
  });
});

/** CSV → count per key → JSON lines (running counts), with an fs recovery store. */
function countFlow(input: string, output: string, crashAfter: number | undefined) {
  const flow = new Dataflow("count");
  const source = new CSVSource(input, { batchSize: 1 });
  flow.input("inp", abortAfter(source, crashAfter))
    .pipe(
      keyOn("by_city", (r) => r.city!),
      statefulMap("count", (n: number | undefined) => [(n ?? 0) + 1, (n ?? 0) + 1]),
    )
    .output("out", new JSONLinesSink(output));
  return flow;
}

Deno.test("CSV → count → JSON lines: aborted after every record and resumed, the output is exactly that of one run", async () => {
  await withDir(async (dir) => {
    const input = `${dir}/in.csv`;
    const cities = ["Oslo", 'Rome, "Eternal"', "Oslo", "Paris\nNord", 'Rome, "Eternal"', "Oslo"];
    await Deno.writeTextFile(
      input,
      "id,city\r\n" + cities.map((c, i) => `${i},"${c.replaceAll('"', '""')}"\r\n`).join(""),
    );
    const expectedPath = `${dir}/expected.jsonl`;
    await run(countFlow(input, expectedPath, undefined), crashOptions(`${dir}/store`));
    const expected = await Deno.readTextFile(expectedPath);
    assertEquals(expected.split("\n").length, cities.length + 1);
    for (let k = 0; k <= cities.length; k++) {
      const store = `${dir}/store_${k}`;
      const output = `${dir}/out_${k}.jsonl`;
      const first = await run(countFlow(input, output, k), crashOptions(store));
      assertEquals(first.status, "aborted");
      // After an odd number of records the crash left a line of an uncommitted epoch in the
      // output: the resume truncates it away, then writes it again.
      const written = await Deno.readTextFile(output).catch(() => "");
      assertEquals(written, expected.split("\n").slice(0, k).map((l) => l + "\n").join(""));
      await run(countFlow(input, output, undefined), crashOptions(store));
      assertEquals(await Deno.readTextFile(output), expected, `aborted after ${k} records`);
    }
  });
});

Deno.test("CSVSink: header once, quoting, resumed (truncated) without a second header", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.csv`;
    const sink = new CSVSink(path, { columns: ["a", "b"], recordDelimiter: "\r\n" });
    const first = await sink.buildPart("f.out", path, undefined, ctx);
    await first.writeBatch([{ a: "x,y", b: 1 }, { a: 'q"', b: true }]);
    const offset = first.snapshot();
    await first.writeBatch([["lost", "epoch"]]);
    await first.close?.();
    const resumed = await sink.buildPart("f.out", path, offset, ctx);
    await resumed.writeBatch([["line\nbreak", null]]);
    await resumed.close?.();
    assertEquals(
      await Deno.readTextFile(path),
      'a,b\r\n"x,y",1\r\n"q""",true\r\n"line\nbreak",\r\n',
    );
    const rows: unknown[] = [];
    const flow = new Dataflow("f");
    flow.input("inp", new CSVSource(path)).output("out", new TestingSink(rows));
    await runMain(flow);
    assertEquals(rows, [
      { a: "x,y", b: "1" },
      { a: 'q"', b: "true" },
      { a: "line\nbreak", b: "" },
    ]);
  });
});

Deno.test("CSVSink without columns refuses objects, naming the path", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.csv`;
    const flow = new Dataflow("f");
    flow.input("inp", new TestingSource<[string, unknown]>([["k", { a: 1 }]]))
      .output("out", new CSVSink(path));
    const err = await assertRejects(() => runMain(flow), DataflowError);
    assertInstanceOf(err.cause, TypeError);
    assertEquals(
      err.cause.message,
      `CSVSink of ${JSON.stringify(path)} writes arrays of fields, got object; pass ` +
        `options.columns to write objects`,
    );
  });
});

Deno.test("countFinal over a CSV file counts every record once", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.csv`;
    await Deno.writeTextFile(path, 'k\na\n"b"\na\n');
    const out: [string, number][] = [];
    const flow = new Dataflow("f");
    flow.input("inp", new CSVSource(path))
      .pipe(countFinal("count", (r) => r.k!))
      .output("out", new TestingSink(out));
    await runMain(flow);
    assertEquals(out, [["a", 2], ["b", 1]]);
  });
});
