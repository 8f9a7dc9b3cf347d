import { assertEquals } from "@std/assert";
import { Dataflow, EOF, type StatefulSourcePartition } from "../../mod.ts";
import { FileSource } from "../../connectors/files.ts";
import { runMain, TestClock, TestingSink } from "../../src/testing/mod.ts";

const ctx = { clock: new TestClock(), workerIndex: 0, workerCount: 1 };

async function withFile(bytes: string | Uint8Array, fn: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ prefix: "weir_files_test_" });
  try {
    if (typeof bytes === "string") await Deno.writeTextFile(path, bytes);
    else await Deno.writeFile(path, bytes);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

async function drain(part: StatefulSourcePartition<string, number>): Promise<string[][]> {
  const batches: string[][] = [];
  for (;;) {
    const b = await part.nextBatch();
    if (b === EOF) return batches;
    batches.push([...b]);
  }
}

Deno.test("FileSource reads lines, keeps blank lines, strips CRLF, emits a last line without newline", async () => {
  await withFile("a\r\n\nb\nlast", async (path) => {
    const part = await new FileSource(path).buildPart("f.inp", path, undefined, ctx);
    assertEquals(await drain(part), [["a", "", "b", "last"]]);
    assertEquals(part.snapshot(), 10);
    await part.close?.();
  });
});

Deno.test("FileSource batches by batchSize", async () => {
  await withFile("1\n2\n3\n4\n5\n", async (path) => {
    const part = await new FileSource(path, { batchSize: 2 }).buildPart(
      "f.inp",
      path,
      undefined,
      ctx,
    );
    assertEquals(await drain(part), [["1", "2"], ["3", "4"], ["5"]]);
    await part.close?.();
  });
});

Deno.test("FileSource decodes multi-byte characters split across chunks", async () => {
  const text = "héllo wörld\n日本語のテキスト\n🙂🙂\n";
  await withFile(text, async (path) => {
    const part = await new FileSource(path, { chunkSize: 3 }).buildPart(
      "f.inp",
      path,
      undefined,
      ctx,
    );
    assertEquals((await drain(part)).flat(), ["héllo wörld", "日本語のテキスト", "🙂🙂"]);
    assertEquals(part.snapshot(), new TextEncoder().encode(text).length);
    await part.close?.();
  });
});

Deno.test("FileSource resumes at the snapshotted byte offset", async () => {
  await withFile("ä\nb\nc\nd\n", async (path) => {
    const source = new FileSource(path, { batchSize: 2, chunkSize: 4 });
    const first = await source.buildPart("f.inp", path, undefined, ctx);
    assertEquals(await first.nextBatch(), ["ä", "b"]);
    const offset = first.snapshot();
    assertEquals(offset, 5); // "ä" is two bytes
    await first.close?.();
    const resumed = await source.buildPart("f.inp", path, offset, ctx);
    assertEquals(await drain(resumed), [["c", "d"]]);
    await resumed.close?.();
  });
});

Deno.test("FileSource of an empty file is at EOF at once", async () => {
  await withFile("", async (path) => {
    const part = await new FileSource(path).buildPart("f.inp", path, undefined, ctx);
    assertEquals(await part.nextBatch(), EOF);
    assertEquals(part.snapshot(), 0);
    await part.close?.();
  });
});

Deno.test("FileSource in a flow: one partition named after the path, every line in order", async () => {
  const lines = Array.from({ length: 2500 }, (_, i) => `line ${i}`);
  await withFile(lines.join("\n") + "\n", async (path) => {
    const source = new FileSource(path);
    assertEquals(source.listParts(), [path]);
    const out: string[] = [];
    const flow = new Dataflow("files");
    flow.input("inp", source).output("out", new TestingSink(out));
    await runMain(flow);
    assertEquals(out, lines);
  });
});

Deno.test("FileSource on a missing file fails the run naming the step and partition", async () => {
  const flow = new Dataflow("files");
  flow.input("inp", new FileSource("/nonexistent/weir.txt")).output("out", new TestingSink([]));
  const err = await runMain(flow).then(() => undefined, (e) => e);
  assertEquals(err?.stepId, "files.inp");
  assertEquals(err?.partition, "/nonexistent/weir.txt");
  assertEquals(err?.cause instanceof Deno.errors.NotFound, true);
});
