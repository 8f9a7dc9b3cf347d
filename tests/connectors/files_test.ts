import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  adler32,
  Dataflow,
  DataflowError,
  EOF,
  run,
  type StatefulSinkPartition,
  type StatefulSourcePartition,
} from "../../mod.ts";
import { DirSink, FileSink, FileSource } from "../../connectors/files.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

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

Deno.test("FileSource refuses a resume offset beyond the file's end, or not an offset", async () => {
  await withFile("a\nb\n", async (path) => {
    const source = new FileSource(path);
    // At the end exactly is fine: nothing more to read.
    const atEnd = await source.buildPart("f.inp", path, 4, ctx);
    assertEquals(await drain(atEnd), []);
    await atEnd.close?.();
    const err = await assertRejects(() => source.buildPart("f.inp", path, 9, ctx), RangeError);
    assertEquals(
      err.message,
      `Cannot resume reading "${path}" at byte 9: the file has only 4 bytes now (it was ` +
        "truncated or replaced since the snapshot)",
    );
    await assertRejects(() => source.buildPart("f.inp", path, -1, ctx), RangeError, "byte offset");
    await assertRejects(
      () => source.buildPart("f.inp", path, "3" as unknown as number, ctx),
      RangeError,
      "byte offset",
    );
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

// ---------------------------------------------------------------------------------------------
// FileSink and DirSink

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "weir_sink_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `items` (as `[key, value]` pairs, `batchSize` per batch) into `sink` with `run`. */
async function writeFlow<V>(
  items: [string, V][],
  sink: FileSink<V> | DirSink<V>,
  batchSize = 1000,
): Promise<void> {
  const flow = new Dataflow("sink");
  flow.input("inp", new TestingSource(items, { batchSize })).output("out", sink);
  await run(flow);
}

/** The error `run` rejects with. */
async function runError(flow: Dataflow): Promise<DataflowError> {
  const err = await run(flow).then(() => undefined, (e) => e);
  assertInstanceOf(err, DataflowError);
  return err;
}

const text = (path: string) => Deno.readTextFile(path);
const bytesOf = (s: string) => new TextEncoder().encode(s).length;

/**
 * Files opened with `Deno.open` and not closed yet, while a test runs. Deno 2's resource
 * sanitizer does not report a leaked `Deno.FsFile`, so the sink tests count for themselves.
 */
const liveFiles = new Set<Deno.FsFile>();

/** A test that fails if it leaves a file open (Deno.open and FsFile.close are wrapped). */
function sinkTest(name: string, fn: () => Promise<void>): void {
  Deno.test(name, async () => {
    const open = Deno.open;
    const proto = Deno.FsFile.prototype;
    const close = proto.close;
    liveFiles.clear();
    Deno.open = async (path: string | URL, options?: Deno.OpenOptions) => {
      const file = await open(path, options);
      liveFiles.add(file);
      return file;
    };
    proto.close = function (this: Deno.FsFile) {
      liveFiles.delete(this);
      return close.call(this);
    };
    try {
      await fn();
    } finally {
      Deno.open = open;
      proto.close = close;
    }
    assertEquals(liveFiles.size, 0, `${liveFiles.size} file(s) left open`);
  });
}

sinkTest(
  "FileSink in a flow writes each value as a line, in order, batch after batch",
  async () => {
    await withDir(async (dir) => {
      const path = `${dir}/out.txt`;
      const items: [string, unknown][] = [
        ["k", "plain"],
        ["k", ""],
        ["other", 42],
        ["k", { a: [1, "x"] }],
        ["k", null],
        ["k", "ünïcødé"],
      ];
      await writeFlow(items, new FileSink(path), 2);
      assertEquals(await text(path), 'plain\n\n42\n{"a":[1,"x"]}\nnull\nünïcødé\n');
    });
  },
);

sinkTest("FileSink: formatter and end options", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.csv`;
    const sink = new FileSink<{ name: string; n: number }>(path, {
      formatter: (v) => `${v.name},${v.n}`,
      end: "\r\n",
    });
    await writeFlow([["a", { name: "a", n: 1 }], ["b", { name: "b", n: 2 }]], sink);
    assertEquals(await text(path), "a,1\r\nb,2\r\n");
  });
});

sinkTest("FileSink: a fresh run truncates an existing file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.txt`;
    await Deno.writeTextFile(path, "stale line 1\nstale line 2\n");
    await writeFlow([["k", "new"]], new FileSink(path));
    assertEquals(await text(path), "new\n");
  });
});

sinkTest("FileSink: one partition named after the path; other partitions refused", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.txt`;
    const sink = new FileSink(path);
    assertEquals(sink.listParts(), [path]);
    await assertRejects(
      () => sink.buildPart("f.out", "other", undefined, ctx),
      RangeError,
      "other",
    );
    assertThrows(() => new FileSink(""), TypeError, "non-empty path");
    assertThrows(() => new FileSink(path, { end: 1 as unknown as string }), TypeError, "end");
  });
});

sinkTest("FileSink: the snapshot is the byte offset after the last written line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.txt`;
    const part = await new FileSink<string>(path).buildPart("f.out", path, undefined, ctx);
    assertEquals(part.snapshot(), 0);
    await part.writeBatch(["ä", "b"]); // "ä" is two bytes
    assertEquals(part.snapshot(), 5);
    await part.writeBatch([]);
    assertEquals(part.snapshot(), 5);
    await part.writeBatch(["🙂"]);
    assertEquals(part.snapshot(), 10);
    assertEquals(part.snapshot(), (await Deno.stat(path)).size);
    await part.close?.();
  });
});

sinkTest("FileSink resumes: truncates to the snapshot, then appends exactly after it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.txt`;
    const sink = new FileSink<string>(path);
    const first = await sink.buildPart("f.out", path, undefined, ctx);
    await first.writeBatch(["one1", "one2"]);
    await first.writeBatch(["one3"]);
    const snap = first.snapshot();
    assertEquals(snap, 15);
    await first.writeBatch(["one4"]); // after the snapshot: an epoch that never committed
    await first.close?.();
    assertEquals(await text(path), "one1\none2\none3\none4\n");

    const resumed = await sink.buildPart("f.out", path, snap, ctx);
    assertEquals(resumed.snapshot(), snap);
    assertEquals(await text(path), "one1\none2\none3\n"); // truncated at build time
    await resumed.writeBatch(["two4", "two5"]);
    assertEquals(resumed.snapshot(), 25);
    await resumed.close?.();
    assertEquals(await text(path), "one1\none2\none3\ntwo4\ntwo5\n");
  });
});

sinkTest("FileSink resumes at the file's end (nothing to discard) and at 0", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.txt`;
    const sink = new FileSink<string>(path);
    await Deno.writeTextFile(path, "a\nb\n");
    const atEnd = await sink.buildPart("f.out", path, 4, ctx);
    await atEnd.writeBatch(["c"]);
    await atEnd.close?.();
    assertEquals(await text(path), "a\nb\nc\n");
    const atZero = await sink.buildPart("f.out", path, 0, ctx);
    await atZero.writeBatch(["z"]);
    await atZero.close?.();
    assertEquals(await text(path), "z\n");
    // Offset 0 needs no earlier content: a missing file is created.
    const missing = `${dir}/missing.txt`;
    const fresh = await new FileSink<string>(missing).buildPart("f.out", missing, 0, ctx);
    await fresh.writeBatch(["m"]);
    await fresh.close?.();
    assertEquals(await text(missing), "m\n");
  });
});

sinkTest("FileSink refuses bad resume offsets, naming the path and the offset", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/out.txt`;
    await Deno.writeTextFile(path, "kept\n");
    const sink = new FileSink<string>(path);
    const bad = async (state: unknown, errorClass: typeof RangeError, shown: string) => {
      const err = await assertRejects(
        () => sink.buildPart("f.out", path, state as number, ctx),
        errorClass,
      );
      assertStringIncludes(err.message, JSON.stringify(path));
      assertStringIncludes(err.message, shown);
    };
    await bad(-1, RangeError, "got -1");
    await bad(1.5, RangeError, "got 1.5");
    await bad(NaN, RangeError, "got NaN");
    await bad(Infinity, RangeError, "got Infinity");
    await bad("3", TypeError, 'got "3"');
    await bad(3n, TypeError, "got 3n");
    await bad(null, TypeError, "got null");
    // Beyond the end: the file was replaced or truncated by someone else; never padded.
    await bad(6, RangeError, "at byte offset 6: the file has only 5 bytes");
    assertEquals(await text(path), "kept\n");
    // A missing file cannot be resumed past 0.
    const gone = `${dir}/gone.txt`;
    const err = await assertRejects(
      () => new FileSink<string>(gone).buildPart("f.out", gone, 3, ctx),
      Error,
      `Cannot resume writing ${JSON.stringify(gone)}: the file does not exist`,
    );
    assertInstanceOf(err.cause, Deno.errors.NotFound);
  });
});

sinkTest(
  "FileSink: a formatter that returns a non-string fails the batch, naming the path",
  async () => {
    await withDir(async (dir) => {
      const path = `${dir}/out.txt`;
      const sink = new FileSink<number>(path, { formatter: (n) => n as unknown as string });
      const part = await sink.buildPart("f.out", path, undefined, ctx);
      await assertRejects(async () => await part.writeBatch([1]), TypeError, JSON.stringify(path));
      assertEquals(part.snapshot(), 0);
      await part.close?.();
      assertEquals(await text(path), "");
    });
  },
);

sinkTest(
  "FileSink close() releases the file; closing twice is fine; later writes refused",
  async () => {
    await withDir(async (dir) => {
      const path = `${dir}/out.txt`;
      const part = await new FileSink<string>(path).buildPart("f.out", path, undefined, ctx);
      await part.writeBatch(["x"]);
      await part.close?.();
      await part.close?.();
      await assertRejects(
        async () => await part.writeBatch(["y"]),
        Error,
        "the partition is closed",
      );
      assertEquals(await text(path), "x\n");
      // The file is closed: it can be removed and reopened freely (and Windows would object).
      await Deno.remove(path);
    });
  },
);

sinkTest("FileSink in a flow closes its file at the end of the run", async () => {
  // sinkTest fails the test if the run leaves the file open.
  await withDir(async (dir) => {
    const path = `${dir}/out.txt`;
    await writeFlow([["k", "a"], ["k", "b"]], new FileSink(path), 1);
    assertEquals(await text(path), "a\nb\n");
  });
});

Deno.test({
  name: "FileSink: a failed write names the path, keeps the snapshot and refuses further writes",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // Every write to /dev/full fails with ENOSPC; Deno opens devices only with --allow-all, so
    // the fixture runs in a subprocess.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tests/connectors/fixtures/dev_full_sink.ts"],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const dec = new TextDecoder();
    assertEquals([out.code, dec.decode(out.stderr)], [0, ""]);
    const r = JSON.parse(dec.decode(out.stdout));
    // The OS's reason follows the path: "No space left on device (os error 28)".
    assertStringIncludes(r.first, 'Cannot write to "/dev/full": ');
    assertStringIncludes(r.first, "(os error 28)");
    assertEquals(r.firstCause, "Error");
    assertEquals(r.snapshot, 0);
    assertEquals(
      r.second,
      'Cannot write to "/dev/full": an earlier write failed, so the file may end with part of ' +
        "a batch; build the partition again from its last snapshot",
    );
    assertEquals([r.run.stepId, r.run.partition], ["full.out", "/dev/full"]);
    assertEquals(
      r.run.message,
      'Step "full.out" on partition "/dev/full": Failed to write a batch: ' + r.first,
    );
  },
});

sinkTest(
  "FileSink into a missing directory fails the run with a DataflowError naming the step",
  async () => {
    await withDir(async (dir) => {
      const path = `${dir}/no/such/dir/out.txt`;
      const flow = new Dataflow("files");
      flow.input("inp", new TestingSource<[string, string]>([["k", "v"]])).output(
        "out",
        new FileSink(path),
      );
      const err = await runError(flow);
      assertEquals(err.stepId, "files.out");
      assertEquals(err.partition, path);
      assertStringIncludes(
        err.message,
        `Cannot create ${JSON.stringify(path)}: its directory ${
          JSON.stringify(`${dir}/no/such/dir`)
        } does not exist`,
      );
      assertInstanceOf(err.cause, Error);
      assertInstanceOf(err.cause.cause, Deno.errors.NotFound);
    });
  },
);

sinkTest(
  "FileSink onto a directory or under a regular file fails the run naming the step and path",
  async () => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/file`, "");
      for (const path of [dir, `${dir}/file/out.txt`]) {
        const flow = new Dataflow("files");
        flow.input("inp", new TestingSource<[string, string]>([["k", "v"]])).output(
          "out",
          new FileSink(path),
        );
        const err = await runError(flow);
        assertEquals(err.stepId, "files.out");
        assertEquals(err.partition, path);
        assertStringIncludes(err.message, JSON.stringify(path));
        assertInstanceOf(err.cause, Error);
        assert(err.cause.cause instanceof Error, "the original error is the cause's cause");
      }
      assertEquals(await text(`${dir}/file`), "");
    });
  },
);

sinkTest("DirSink distributes keys by Adler-32 over the sorted file names", async () => {
  await withDir(async (dir) => {
    const keys = ["apple", "banana", "cherry", "date", "elder", "fig", "grape", "kiwi", "lime"];
    const items = keys.map((k, i): [string, string] => [k, `${k}=${i}`]);
    const sink = new DirSink<string>(dir, 3);
    assertEquals(sink.listParts(), ["part_0", "part_1", "part_2"]);
    await writeFlow(items, sink, 4);
    const expected: Record<string, string> = { part_0: "", part_1: "", part_2: "" };
    for (const [k, v] of items) expected[`part_${adler32(k) % 3}`] += `${v}\n`;
    // The keys do reach all three files, so the test checks the routing, not a single file.
    assert(Object.values(expected).every((t) => t !== ""));
    const actual: Record<string, string> = {};
    for await (const e of Deno.readDir(dir)) actual[e.name] = await text(`${dir}/${e.name}`);
    assertEquals(actual, expected);
  });
});

sinkTest(
  "DirSink with 12 files: index 2 is part_10, as in Bytewax (names sorted as strings)",
  async () => {
    await withDir(async (dir) => {
      const sink = new DirSink<string>(dir, 12, { assignFile: (key) => Number(key) });
      await writeFlow([["0", "zero"], ["1", "one"], ["2", "two"], ["14", "fourteen"]], sink);
      const sorted = sink.listParts().sort();
      assertEquals(sorted.slice(0, 4), ["part_0", "part_1", "part_10", "part_11"]);
      const files: Record<string, string> = {};
      for await (const e of Deno.readDir(dir)) files[e.name] = await text(`${dir}/${e.name}`);
      // 0 → part_0, 1 → part_1, 2 → part_10, 14 % 12 = 2 → part_10. Untouched files are not made.
      assertEquals(files, { part_0: "zero\n", part_1: "one\n", part_10: "two\nfourteen\n" });
    });
  },
);

sinkTest("DirSink: fileNamer names the files; bad arguments throw at construction", async () => {
  await withDir(async (dir) => {
    const sink = new DirSink<number>(`${dir}/`, 2, {
      fileNamer: (i, n) => `out-${i}-of-${n}.jsonl`,
      assignFile: (key) => key.length,
      formatter: (v) => JSON.stringify({ v }),
    });
    assertEquals(sink.listParts(), ["out-0-of-2.jsonl", "out-1-of-2.jsonl"]);
    assertEquals(sink.pathOf("out-0-of-2.jsonl"), `${dir}/out-0-of-2.jsonl`);
    await writeFlow([["ab", 1], ["a", 2], ["", 3]], sink);
    assertEquals(await text(`${dir}/out-0-of-2.jsonl`), '{"v":1}\n{"v":3}\n');
    assertEquals(await text(`${dir}/out-1-of-2.jsonl`), '{"v":2}\n');
    await assertRejects(() => sink.buildPart("f.out", "part_0", undefined, ctx), RangeError);
  });
  assertThrows(() => new DirSink("d", 0), RangeError, "fileCount");
  assertThrows(() => new DirSink("d", 1.5), RangeError, "fileCount");
  assertThrows(() => new DirSink("", 1), TypeError, "directory");
  assertThrows(() => new DirSink("d", 2, { fileNamer: () => "same" }), RangeError, '"same"');
  assertThrows(() => new DirSink("d", 1, { fileNamer: () => "" }), TypeError, "fileNamer(0, 1)");
});

sinkTest("DirSink resumes each file at its own snapshot", async () => {
  await withDir(async (dir) => {
    const sink = new DirSink<string>(dir, 2);
    const build = (part: string, state: number | undefined) =>
      sink.buildPart("f.out", part, state, ctx) as Promise<StatefulSinkPartition<string, number>>;
    const p0 = await build("part_0", undefined);
    const p1 = await build("part_1", undefined);
    await p0.writeBatch(["a1"]);
    await p1.writeBatch(["b1", "b2"]);
    const snaps = [p0.snapshot(), p1.snapshot()];
    assertEquals(snaps, [3, 6]);
    await p0.writeBatch(["a-lost"]);
    await p1.writeBatch(["b-lost"]);
    await p0.close?.();
    await p1.close?.();
    const r0 = await build("part_0", snaps[0]);
    const r1 = await build("part_1", snaps[1]);
    await r0.writeBatch(["a2"]);
    await r1.writeBatch(["b3"]);
    await r0.close?.();
    await r1.close?.();
    assertEquals(await text(`${dir}/part_0`), "a1\na2\n");
    assertEquals(await text(`${dir}/part_1`), "b1\nb2\nb3\n");
    await assertRejects(() => build("part_0", 100), RangeError, `${dir}/part_0`);
  });
});

sinkTest(
  "DirSink into a missing directory fails the run with a DataflowError naming the step",
  async () => {
    await withDir(async (dir) => {
      const missing = `${dir}/missing`;
      const flow = new Dataflow("dirs");
      flow.input("inp", new TestingSource<[string, string]>([["k", "v"]])).output(
        "out",
        new DirSink(missing, 3, { assignFile: () => 1 }),
      );
      const err = await runError(flow);
      assertEquals(err.stepId, "dirs.out");
      assertEquals(err.partition, "part_1");
      assertStringIncludes(
        err.message,
        `Cannot create ${JSON.stringify(`${missing}/part_1`)}: its directory ${
          JSON.stringify(missing)
        } does not exist`,
      );
      assertInstanceOf(err.cause, Error);
      assertInstanceOf(err.cause.cause, Deno.errors.NotFound);
    });
  },
);

sinkTest("FileSink: one write and one syncData per batch, exactly the batch's bytes", async () => {
  // Counts the calls on Deno.FsFile's prototype for the duration of the test.
  const proto = Deno.FsFile.prototype;
  const { write, syncData } = proto;
  const calls = { write: 0, syncData: 0 };
  proto.write = function (this: Deno.FsFile, p: Uint8Array) {
    calls.write++;
    return write.call(this, p);
  };
  proto.syncData = function (this: Deno.FsFile) {
    calls.syncData++;
    return syncData.call(this);
  };
  try {
    await withDir(async (dir) => {
      const path = `${dir}/out.txt`;
      const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i} ✓`);
      const part = await new FileSink<string>(path).buildPart("f.out", path, undefined, ctx);
      await part.writeBatch(lines);
      assertEquals(calls, { write: 1, syncData: 1 });
      await part.writeBatch(["last"]);
      assertEquals(calls, { write: 2, syncData: 2 });
      const expected = lines.join("\n") + "\nlast\n";
      assertEquals(part.snapshot(), bytesOf(expected));
      await part.close?.();
      assertEquals(await text(path), expected);
    });
  } finally {
    proto.write = write;
    proto.syncData = syncData;
  }
});

Deno.test("single-file sinks share one construction path and name their own class in its errors", async () => {
  const { CSVSink } = await import("../../connectors/csv.ts");
  const { JSONLinesSink } = await import("../../connectors/jsonl.ts");
  const makers: [string, (path: string) => FileSink | InstanceType<typeof CSVSink>][] = [
    ["FileSink", (p) => new FileSink(p)],
    ["CSVSink", (p) => new CSVSink(p)],
    ["JSONLinesSink", (p) => new JSONLinesSink(p)],
  ];
  for (const [name, make] of makers) {
    const bad = assertThrows(() => make(""), TypeError);
    assertEquals(bad.message, `${name} needs a non-empty path, got ""`);
    const sink = make("out.txt");
    assertEquals(sink.listParts(), ["out.txt"]);
    const wrong = await assertRejects(
      () => sink.buildPart("f.out", "other.txt", undefined),
      RangeError,
    );
    assertEquals(wrong.message, `${name} of "out.txt" has no partition "other.txt"`);
  }
});
