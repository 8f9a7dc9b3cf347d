import { assertEquals, assertRejects } from "@std/assert";
import { Dataflow, DataflowError, keyOn, run } from "../../mod.ts";
import { type DeadLetter, isDeadLetter } from "../../src/serde/mod.ts";
import { type FilePosition, JSONLinesSink, JSONLinesSource } from "../../connectors/jsonl.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { abortAfter, crashOptions, ctx, drain, withDir } from "./_file_flows.ts";

Deno.test("JSONLinesSource: values of every JSON type, CRLF, BOM, blank lines skipped, a last line without newline", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.jsonl`;
    await Deno.writeTextFile(path, '\uFEFF{"a":[1,2]}\r\n\n  \n"s\\n"\nnull\n3.5\ntrue');
    const part = await new JSONLinesSource(path).buildPart("f.inp", path, undefined, ctx);
    assertEquals(await drain(part), [[{ a: [1, 2] }, "s\n", null, 3.5, true]]);
    assertEquals(part.snapshot(), { offset: 39, line: 7 }); // the whole file
    await part.close?.();
  });
});

Deno.test("JSONLinesSource: a bad line fails the run naming the step, the path and the line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.jsonl`;
    await Deno.writeTextFile(path, '{"n":1}\n\n{"n":2,}\n{"n":3}\n');
    const flow = new Dataflow("f");
    flow.input("inp", new JSONLinesSource(path)).output("out", new TestingSink([]));
    const err = await assertRejects(() => runMain(flow), DataflowError);
    const cause = err.cause as Error & { cause: SyntaxError };
    assertEquals(
      err.message,
      `Step "f.inp" on partition ${JSON.stringify(path)}: Failed to read the next batch: ` +
        `Cannot parse the JSON line at ${JSON.stringify(path)} line 3: ${cause.cause.message}; ` +
        `fix the file, or pass badRecords: "emit" to route bad lines to a dead-letter stream`,
    );
    assertEquals(cause.cause.name, "SyntaxError");
  });
});

Deno.test("JSONLinesSource: bad lines as dead letters with path and line, across batches", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.jsonl`;
    await Deno.writeTextFile(path, "1\nx\n2\n{\r\n3\n");
    const flow = new Dataflow("f");
    const { trues: bad, falses: good } = flow
      .input("inp", new JSONLinesSource<number, "emit">(path, { badRecords: "emit", batchSize: 2 }))
      .branch("split", isDeadLetter);
    const values: number[] = [];
    const letters: DeadLetter<string>[] = [];
    good.output("good", new TestingSink(values));
    bad.output("bad", new TestingSink(letters));
    await runMain(flow);
    assertEquals(values, [1, 2, 3]);
    assertEquals(letters.map((l) => [l.stepId, l.path, l.line, l.raw]), [
      ["f.inp", path, 2, "x"],
      ["f.inp", path, 4, "{"],
    ]);
  });
});

Deno.test("JSONLinesSource resumes at every line boundary with the right line numbers", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/in.jsonl`;
    const values = [{ a: "é" }, [1], "x", 2, null];
    await Deno.writeTextFile(path, values.map((v) => JSON.stringify(v)).join("\n") + "\n");
    for (const chunkSize of [1, 3, 1024]) {
      const source = new JSONLinesSource(path, { batchSize: 1, chunkSize });
      for (let k = 0; k <= values.length; k++) {
        const first = await source.buildPart("f.inp", path, undefined, ctx);
        const before: unknown[] = [];
        for (let i = 0; i < k; i++) before.push(...(await first.nextBatch() as unknown[]));
        const snap: FilePosition = first.snapshot();
        await first.close?.();
        assertEquals(snap.line, k + 1);
        const resumed = await source.buildPart("f.inp", path, snap, ctx);
        assertEquals([...before, ...(await drain(resumed)).flat()], values);
        await resumed.close?.();
      }
    }
  });
});

Deno.test("JSONLinesSink: resumed from a snapshot, truncates the uncommitted lines", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.jsonl`;
    const sink = new JSONLinesSink<unknown>(path);
    const first = await sink.buildPart("f.out", path, undefined, ctx);
    await first.writeBatch([{ a: 1 }, "two"]);
    const offset = first.snapshot();
    await first.writeBatch([["never", "committed", "and", "long"]]);
    await first.close?.();
    const resumed = await sink.buildPart("f.out", path, offset, ctx);
    await resumed.writeBatch([3]);
    await resumed.close?.();
    assertEquals(await Deno.readTextFile(path), '{"a":1}\n"two"\n3\n');
  });
});

Deno.test("JSONLinesSink: undefined fails the run naming the step and the path", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.jsonl`;
    const flow = new Dataflow("f");
    flow.input("inp", new TestingSource<[string, unknown]>([["k", undefined]]))
      .output("out", new JSONLinesSink(path));
    const err = await assertRejects(() => runMain(flow), DataflowError);
    assertEquals(err.stepId, "f.out");
    assertEquals(err.partition, path);
    assertEquals(
      (err.cause as Error).message,
      "JSON cannot represent a value of type undefined; map it to a JSON value first",
    );
  });
});

Deno.test("JSON lines → JSON lines aborted after every line and resumed: exactly the input", async () => {
  await withDir(async (dir) => {
    const input = `${dir}/in.jsonl`;
    const values = Array.from({ length: 7 }, (_, i) => ({ i, s: "x".repeat(i) }));
    await Deno.writeTextFile(input, values.map((v) => JSON.stringify(v) + "\n").join(""));
    for (let k = 0; k <= values.length; k++) {
      const out = `${dir}/out_${k}.jsonl`;
      const copy = (crash: number | undefined) => {
        const flow = new Dataflow("copy");
        flow.input("inp", abortAfter(new JSONLinesSource(input, { batchSize: 1 }), crash))
          .pipe(keyOn("all", () => "all"))
          .output("out", new JSONLinesSink(out));
        return flow;
      };
      assertEquals((await run(copy(k), crashOptions(`${dir}/s${k}`))).status, "aborted");
      assertEquals((await run(copy(undefined), crashOptions(`${dir}/s${k}`))).status, "eof");
      assertEquals(await Deno.readTextFile(out), await Deno.readTextFile(input), `after ${k}`);
    }
  });
});
