import { assertEquals, assertRejects } from "@std/assert";
import { Dataflow, keyOn, RecoveryError, run, statefulMap } from "../../mod.ts";
import { DirSource } from "../../connectors/files.ts";
import { CSVSource } from "../../connectors/csv.ts";
import { JSONLinesSink, JSONLinesSource } from "../../connectors/jsonl.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { runMain, TestingSink } from "../../src/testing/mod.ts";
import { abortAfter, crashOptions, withDir } from "./_file_flows.ts";

Deno.test("DirSource lists regular files matching the glob, sorted; dotfiles and subdirectories are skipped", async () => {
  await withDir(async (dir) => {
    for (const name of ["b.csv", "a.csv", ".hidden.csv", "a.csv.bak", "x.txt", "c1.csv"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "");
    }
    await Deno.mkdir(`${dir}/d.csv`);
    assertEquals(await new DirSource(dir, "*.csv").listParts(), ["a.csv", "b.csv", "c1.csv"]);
    assertEquals(await new DirSource(dir, "?.csv").listParts(), ["a.csv", "b.csv"]);
    assertEquals(await new DirSource(dir, ".*").listParts(), [".hidden.csv"]);
    assertEquals(await new DirSource(`${dir}/`, "x.txt").listParts(), ["x.txt"]);
    const err = await assertRejects(() => new DirSource(`${dir}/nope`, "*").listParts(), Error);
    assertEquals(
      err.message.startsWith(`Cannot list the directory ${JSON.stringify(`${dir}/nope`)}: `),
      true,
    );
  });
});

Deno.test("DirSource of CSV files: each file a partition with its own header", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/1.csv`, "a,b\n1,2\n");
    await Deno.writeTextFile(`${dir}/2.csv`, 'b,a\n"3\n4",5\n');
    const rows: Record<string, string>[] = [];
    const flow = new Dataflow("f");
    flow.input("inp", new DirSource(dir, "*.csv", { source: (p) => new CSVSource(p) }))
      .output("out", new TestingSink(rows));
    await runMain(flow);
    assertEquals(
      rows.sort((x, y) => x.a!.localeCompare(y.a!)),
      [{ a: "1", b: "2" }, { a: "5", b: "3\n4" }],
    );
  });
});

/** JSON lines of a directory → running count per file → one JSON lines file. */
function countPerFile(dir: string, out: string, crash: number | undefined) {
  const flow = new Dataflow("dir");
  const source = new DirSource(dir, "*.jsonl", {
    source: (p) => new JSONLinesSource<{ file: string }>(p, { batchSize: 1 }),
  });
  flow.input("inp", abortAfter(source, crash))
    .pipe(
      keyOn("by_file", (v) => v.file),
      statefulMap(
        "count",
        (n: number | undefined, v) => [(n ?? 0) + 1, `${v.file}#${(n ?? 0) + 1}`],
      ),
    )
    .output("out", new JSONLinesSink(out));
  return flow;
}

Deno.test("DirSource over three files aborted after every batch and resumed: each line read exactly once", async () => {
  await withDir(async (root) => {
    const dir = `${root}/in`;
    await Deno.mkdir(dir);
    const sizes = { "a.jsonl": 3, "b.jsonl": 1, "c.jsonl": 4 };
    for (const [name, n] of Object.entries(sizes)) {
      const lines = Array.from({ length: n }, () => JSON.stringify({ file: name }) + "\n");
      await Deno.writeTextFile(`${dir}/${name}`, lines.join(""));
    }
    await run(countPerFile(dir, `${root}/expected.jsonl`, undefined), crashOptions(`${root}/s`));
    const expected = (await Deno.readTextFile(`${root}/expected.jsonl`)).split("\n").sort();
    assertEquals(expected.filter((l) => l !== "").length, 8);
    for (let k = 0; k <= 8; k++) {
      const out = `${root}/out_${k}.jsonl`;
      const store = `${root}/store_${k}`;
      assertEquals((await run(countPerFile(dir, out, k), crashOptions(store))).status, "aborted");
      assertEquals(
        (await run(countPerFile(dir, out, undefined), crashOptions(store))).status,
        "eof",
      );
      assertEquals((await Deno.readTextFile(out)).split("\n").sort(), expected, `after ${k}`);
    }
  });
});

Deno.test("DirSource: a file added after a run is read by the next run from its start; appended lines after the offset; a removed file is refused", async () => {
  await withDir(async (root) => {
    const dir = `${root}/in`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/a.log`, "a1\n");
    const recovery = { backend: fsBackend(`${root}/store`), create: true };
    const read = async () => {
      const out: string[] = [];
      const flow = new Dataflow("logs");
      flow.input("inp", new DirSource(dir, "*.log")).output("out", new TestingSink(out));
      await run(flow, { recovery });
      return out.sort();
    };
    assertEquals(await read(), ["a1"]);
    await Deno.writeTextFile(`${dir}/a.log`, "a2\n", { append: true });
    await Deno.writeTextFile(`${dir}/b.log`, "b1\n");
    assertEquals(await read(), ["a2", "b1"]);
    assertEquals(await read(), []);
    await Deno.remove(`${dir}/b.log`);
    const err = await assertRejects(read, RecoveryError);
    assertEquals(err.message.includes(`logs.inp partition "b.log" (source)`), true, err.message);
  });
});
