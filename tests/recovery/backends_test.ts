// The recovery backends: the conformance suite for each, then what is particular to each.
import {
  assert,
  assertEquals,
  assertGreater,
  assertGreaterOrEqual,
  assertLess,
  assertLessOrEqual,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  Dataflow,
  initStore,
  inspectStore,
  keyOn,
  RecoveryError,
  run,
  statefulMap,
} from "../../mod.ts";
import { crc32 } from "../../src/recovery/bytes.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { kvBackend } from "../../src/recovery/deno_kv.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { ITEMS, KEYS, READY_AFTER, sigkillFlow } from "../fixtures/kv_sigkill_flow.ts";
import { kvChunkKeys, kvOrphanGroups, kvSegmentRecords, withKv } from "./_stores.ts";
import { backendConformance, randomBytes } from "./conformance.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

backendConformance("fsBackend", async () => {
  const root = await Deno.makeTempDir({ prefix: "weir_conf_fs_" });
  // A directory that does not exist yet: the backend creates it on the first write.
  const dir = `${root}/store`;
  return {
    backend: fsBackend(dir),
    reopen: () => fsBackend(dir),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});

backendConformance("kvBackend (database file)", async () => {
  const root = await Deno.makeTempDir({ prefix: "weir_conf_kv_" });
  // A file in a directory that does not exist yet: the backend creates both on the first write.
  const path = `${root}/db/store.sqlite`;
  return {
    backend: kvBackend(path),
    reopen: () => kvBackend(path),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});

backendConformance("kvBackend (open Deno.Kv, custom prefix)", async () => {
  const root = await Deno.makeTempDir({ prefix: "weir_conf_kv_open_" });
  const kv = await Deno.openKv(`${root}/shared.sqlite`);
  // Another store in the same database, under the default prefix: never seen by this one.
  const neighbour = kvBackend(kv);
  await neighbour.writeManifest(new Uint8Array([7, 7]));
  await neighbour.writeSegment("delta-0000000000000001", randomBytes(100 * KiB));
  const prefix: Deno.KvKey = ["tenants", 42n, "weir"];
  return {
    backend: kvBackend(kv, { prefix }),
    reopen: () => kvBackend(kv, { prefix }),
    async cleanup() {
      // The neighbour is untouched, and the caller's Deno.Kv is still open.
      assertEquals(await neighbour.readManifest(), new Uint8Array([7, 7]));
      assertEquals(await neighbour.listSegments(), ["delta-0000000000000001"]);
      kv.close();
      await Deno.remove(root, { recursive: true });
    },
  };
});

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_backend_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------
// fsBackend

Deno.test("fsBackend: listSegments skips a left-over temporary file and removes nothing; collectGarbage removes it", async () => {
  await withTempDir(async (dir) => {
    const backend = fsBackend(dir);
    const seg = randomBytes(1000);
    await backend.writeSegment("delta-0000000000000001", seg);
    await backend.writeManifest(new Uint8Array([1]));
    // What a crash between the write and the rename leaves, in segments/ and next to the
    // manifest, plus the temporary names of earlier versions of weir.
    const leftovers = [
      `${dir}/segments/.delta-0000000000000002.weir-tmp-0a1b2c3d`,
      `${dir}/.weir-store.json.weir-tmp-99aa00ff`,
      `${dir}/segments/delta-0000000000000003.lz3k0.tmp`,
      `${dir}/weir-store.json.lz3k1.tmp`,
    ];
    // The user's own files, never weir's to delete.
    const mine = [`${dir}/notes.tmp`, `${dir}/segments/.backup.tmp`, `${dir}/my.weir-tmp-x`];
    for (const f of [...leftovers, ...mine]) await Deno.writeFile(f, randomBytes(500));
    const files = async () => {
      const out = [];
      for (const d of [dir, `${dir}/segments`]) {
        for await (const e of Deno.readDir(d)) if (e.isFile) out.push(`${d}/${e.name}`);
      }
      return out.sort();
    };
    const before = await files();
    const reader = fsBackend(dir);
    assertEquals((await reader.listSegments()).sort(), [
      ".backup.tmp",
      "delta-0000000000000001",
    ]);
    assertEquals(await reader.readManifest(), new Uint8Array([1]));
    assertEquals(await reader.readSegment("delta-0000000000000001"), seg);
    assertEquals(await files(), before);
    await reader.close();
    await backend.collectGarbage!();
    assertEquals(
      await files(),
      [
        `${dir}/segments/delta-0000000000000001`,
        `${dir}/weir-store.json`,
        ...mine,
      ].sort(),
    );
    assertEquals(await backend.readSegment("delta-0000000000000001"), seg);
  });
});

Deno.test("fsBackend: a run removes a crashed write's temporary file but never a user's *.tmp file", async () => {
  await withTempDir(async (dir) => {
    const store = `${dir}/store`;
    const out: number[] = [];
    const flow = new Dataflow("tmps");
    flow.input("inp", new TestingSource([1, 2, TestingSource.EOF(), 3, 4]))
      .output("out", new TestingSink(out));
    await run(flow, { recovery: { backend: fsBackend(store), create: true } });
    const crashed = `${store}/segments/.delta-0000000000000009.weir-tmp-0123abcd`;
    await Deno.writeFile(crashed, randomBytes(100));
    await Deno.writeTextFile(`${store}/notes.tmp`, "mine");
    await run(flow, { recovery: { backend: fsBackend(store) } });
    assertEquals(out, [1, 2, 3, 4]);
    await assertRejects(() => Deno.stat(crashed), Deno.errors.NotFound);
    assertEquals(await Deno.readTextFile(`${store}/notes.tmp`), "mine");
    // A user's file among the segments is refused, and left alone.
    await Deno.writeTextFile(`${store}/segments/mine.tmp`, "mine too");
    const err = await assertRejects(
      () => run(flow, { recovery: { backend: fsBackend(store) } }),
      RecoveryError,
    );
    assertEquals(
      err.message,
      `Unexpected segment "mine.tmp" in the recovery store in directory ${store}`,
    );
    assertEquals(await Deno.readTextFile(`${store}/segments/mine.tmp`), "mine too");
  });
});

const canChmod = Deno.build.os !== "windows";

async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test({
  name: "fsBackend: files are created 0600 and directories 0700; options widen them exactly",
  ignore: !canChmod,
  async fn() {
    await withTempDir(async (root) => {
      const flow = new Dataflow("modes");
      flow.input("inp", new TestingSource([1, TestingSource.EOF(), 2]))
        .pipe(
          keyOn("k", () => "k"),
          statefulMap("s", (s: number | undefined, v: number) => {
            const n = (s ?? 0) + v;
            return [n, n];
          }),
        )
        .output("out", new TestingSink([]));
      const check = async (dir: string, file: number, d: number) => {
        assertEquals(await modeOf(dir), d, dir);
        assertEquals(await modeOf(`${dir}/segments`), d);
        for (const f of ["weir-store.json", "weir-store.lock"]) {
          assertEquals(await modeOf(`${dir}/${f}`), file, f);
        }
        const segs = [...Deno.readDirSync(`${dir}/segments`)].map((e) => e.name);
        assert(segs.length > 0);
        for (const s of segs) assertEquals(await modeOf(`${dir}/segments/${s}`), file, s);
      };
      // The default: private (a plain create would give 0644 and 0755 under the usual umask
      // 022); the store's parent, created by the backend, too.
      const priv = `${root}/a/private`;
      for (let i = 0; i < 2; i++) {
        await run(flow, { recovery: { backend: fsBackend(priv), create: true } });
      }
      await check(priv, 0o600, 0o700);
      assertEquals(await modeOf(`${root}/a`), 0o700);
      // Widened: exactly what was asked, group write included, which a umask of 022 or 077
      // would have removed.
      const wide = `${root}/b`;
      const opts = { fileMode: 0o664, dirMode: 0o775 };
      for (let i = 0; i < 2; i++) {
        await run(flow, { recovery: { backend: fsBackend(wide, opts), create: true } });
      }
      await check(wide, 0o664, 0o775);
      // An existing directory keeps its mode; what the backend creates in it is private.
      const existing = `${root}/c`;
      await Deno.mkdir(existing);
      await Deno.chmod(existing, 0o755);
      await initStore(fsBackend(existing), 0);
      assertEquals(await modeOf(existing), 0o755);
      assertEquals(await modeOf(`${existing}/weir-store.json`), 0o600);
      assertEquals(await modeOf(`${existing}/weir-store.lock`), 0o600);
    });
  },
});

Deno.test("fsBackend: a mode that leaves the owner without access is refused", () => {
  assertThrows(
    () => fsBackend("/tmp/x", { fileMode: 0o644 & ~0o200 }),
    RangeError,
    "fsBackend's fileMode must be an integer from 0o600 to 0o777 that includes 0o600 (the " +
      "owner's access), got 0o444",
  );
  assertThrows(
    () => fsBackend("/tmp/x", { dirMode: 0o1777 }),
    RangeError,
    "fsBackend's dirMode must be an integer from 0o700 to 0o777 that includes 0o700 (the " +
      "owner's access), got 0o1777",
  );
  assertThrows(
    () => fsBackend("/tmp/x", { fileMode: 1.5 }),
    RangeError,
    "got 1.5",
  );
});

Deno.test("fsBackend: description names the directory", () => {
  assertEquals(fsBackend("/var/lib/weir/orders").description, "directory /var/lib/weir/orders");
});

// ---------------------------------------------------------------------------------------
// kvBackend

Deno.test("kvBackend: description names the database and the prefix", async () => {
  assertEquals(
    kvBackend("/var/lib/weir/orders.sqlite").description,
    `Deno KV /var/lib/weir/orders.sqlite prefix ["weir"]`,
  );
  assertEquals(
    kvBackend("/tmp/x.sqlite", { prefix: ["a", 1, 2n, true] }).description,
    `Deno KV /tmp/x.sqlite prefix ["a",1,2n,true]`,
  );
  assertEquals(kvBackend().description, `Deno KV (the default database) prefix ["weir"]`);
  const kv = await Deno.openKv(":memory:");
  try {
    assertEquals(
      kvBackend(kv, { prefix: [] }).description,
      `Deno KV (an open Deno.Kv) prefix []`,
    );
  } finally {
    kv.close();
  }
});

Deno.test("kvBackend: a 3 MiB segment is written in several commits within Deno KV's limits", async () => {
  await withTempDir(async (dir) => {
    const kv = await Deno.openKv(`${dir}/store.sqlite`);
    try {
      const backend = kvBackend(kv);
      const name = "base-0000000000000009";
      const bytes = randomBytes(3 * MiB);
      await backend.writeSegment(name, bytes);
      assertEquals(await backend.readSegment(name), bytes);

      const record = await kv.get<Record<string, unknown>>(["weir", false, "seg", name]);
      const meta = record.value!;
      const gen = meta.gen as string;
      const chunks = Math.ceil((3 * MiB) / (60 * KiB));
      assertEquals(chunks, 52);
      assertEquals(meta, { chunks, bytes: 3 * MiB, crc32: crc32(bytes), gen });
      assertEquals(typeof meta.gen, "string");
      // Every chunk below Deno KV's 64 KiB value limit; grouped by the commit that wrote it
      // (its versionstamp), each commit below 1000 mutations and 800 KiB.
      const commits = new Map<string, { mutations: number; bytes: number }>();
      let n = 0;
      for await (const e of kv.list<Uint8Array>({ prefix: ["weir", false, "chunk", name, gen] })) {
        assertEquals(e.key.at(-1), n++);
        assertLessOrEqual(e.value.length, 60 * KiB);
        assertLess(e.value.length, 64 * KiB);
        const c = commits.get(e.versionstamp) ?? { mutations: 0, bytes: 0 };
        c.mutations++;
        c.bytes += e.value.length;
        commits.set(e.versionstamp, c);
      }
      assertEquals(n, 52);
      // 3 MiB cannot go in fewer than 4 commits of less than 800 KiB.
      assertGreaterOrEqual(commits.size, 4);
      for (const c of commits.values()) {
        assertLess(c.mutations, 1000);
        assertLess(c.bytes, 800 * KiB);
      }
      // The metadata record came last: the segment became visible once complete.
      for (const v of commits.keys()) assertGreater(record.versionstamp, v);

      // Deleting removes the record and every chunk.
      await backend.deleteSegments([name]);
      assertEquals(await backend.listSegments(), []);
      assertEquals(await kvChunkKeys(kv), []);
    } finally {
      kv.close();
    }
  });
});

Deno.test("kvBackend: a partially written chunk group without metadata is ignored by listing and removed by collectGarbage", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    const backend = kvBackend(path);
    try {
      const seg = randomBytes(130 * KiB);
      await backend.writeSegment("delta-0000000000000001", seg);
      const gen = (await withKv(path, kvSegmentRecords)).get("delta-0000000000000001")!.gen;
      // What crashes leave: a write of delta 2 that died after two chunk commits, and the
      // chunks of an earlier version of delta 1 whose rewrite died before deleting them.
      await withKv(path, async (kv) => {
        for (let i = 0; i < 2; i++) {
          await kv.set(
            ["weir", false, "chunk", "delta-0000000000000002", "dead-gen", i],
            randomBytes(60 * KiB),
          );
        }
        await kv.set(
          ["weir", false, "chunk", "delta-0000000000000001", "old-gen", 0],
          randomBytes(10),
        );
        assertEquals(await kvOrphanGroups(kv), [
          "delta-0000000000000001/old-gen",
          "delta-0000000000000002/dead-gen",
        ]);
      });
      assertEquals(await backend.listSegments(), ["delta-0000000000000001"]);
      await assertRejects(() => backend.readSegment("delta-0000000000000002"));
      assertEquals(await backend.readSegment("delta-0000000000000001"), seg);
      // Reading removed nothing; collectGarbage (run by the store under its claim) does.
      await withKv(path, async (kv) => assertEquals((await kvOrphanGroups(kv)).length, 2));
      await backend.collectGarbage!();
      assertEquals(await backend.readSegment("delta-0000000000000001"), seg);
      await withKv(path, async (kv) => {
        assertEquals(await kvOrphanGroups(kv), []);
        assertEquals(await kvChunkKeys(kv), [
          `delta-0000000000000001/${gen}/0`,
          `delta-0000000000000001/${gen}/1`,
          `delta-0000000000000001/${gen}/2`,
        ]);
      });
    } finally {
      await backend.close();
    }
  });
});

Deno.test("kvBackend: listSegments leaves the chunks of a write in progress alone", async () => {
  await withTempDir(async (dir) => {
    const backend = kvBackend(`${dir}/store.sqlite`);
    try {
      const bytes = randomBytes(3 * MiB);
      let done = false;
      const write = backend.writeSegment("base-0000000000000001", bytes).finally(() => {
        done = true;
      });
      const listings: string[][] = [];
      while (!done) listings.push(await backend.listSegments());
      await write;
      // Listings made before the metadata commit saw nothing, and removed nothing.
      assertEquals(listings[0], []);
      assertEquals(await backend.listSegments(), ["base-0000000000000001"]);
      assertEquals(await backend.readSegment("base-0000000000000001"), bytes);
    } finally {
      await backend.close();
    }
  });
});

Deno.test("kvBackend: a damaged segment is reported with its name", async () => {
  await withTempDir(async (dir) => {
    const kv = await Deno.openKv(`${dir}/store.sqlite`);
    try {
      const backend = kvBackend(kv);
      const name = "delta-0000000000000003";
      const bytes = randomBytes(150 * KiB);
      await backend.writeSegment(name, bytes);
      const meta = (await kvSegmentRecords(kv)).get(name)!;
      assertEquals(meta.chunks, 3);
      const chunk1 = ["weir", false, "chunk", name, meta.gen, 1];
      const original = (await kv.get<Uint8Array>(chunk1)).value!;
      const fails = async (expected: string) => {
        const err = await assertRejects(() => backend.readSegment(name));
        assertStringIncludes(err.message, `Segment ${name} in ${backend.description}`);
        assertStringIncludes(err.message, expected);
      };

      const flipped = original.slice();
      flipped[100] = flipped[100]! ^ 1;
      await kv.set(chunk1, flipped);
      await fails(
        `CRC-32 ${crc32(withChunk(bytes, 1, flipped))} of its bytes differs from the ` +
          `${meta.crc32} its metadata records`,
      );
      await kv.set(chunk1, original.subarray(1));
      await fails(`its chunks hold ${150 * KiB - 1} bytes, its metadata records ${150 * KiB}`);
      await kv.set(chunk1, new Uint8Array(original.length + 1));
      await fails(`its chunks hold more than the ${150 * KiB} bytes its metadata records`);
      await kv.delete(chunk1);
      await fails("chunk 1 of 3 is missing");
      await kv.set(chunk1, "not bytes");
      await fails("chunk 1 of 3 is not bytes");
      await kv.set(chunk1, original);
      assertEquals(await backend.readSegment(name), bytes);
      await kv.set(["weir", false, "seg", name], { chunks: 3, bytes: "many" });
      await fails("its metadata record is malformed");
    } finally {
      kv.close();
    }
  });
});

/** `bytes` with its chunk `i` (60 KiB chunks) replaced by `chunk`. */
function withChunk(bytes: Uint8Array, i: number, chunk: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.set(chunk, i * 60 * KiB);
  return out;
}

Deno.test("kvBackend: a database file that does not exist is not created by reading", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/a/b/store.sqlite`;
    const backend = kvBackend(path);
    try {
      assertEquals(await backend.readManifest(), undefined);
      assertEquals(await backend.listSegments(), []);
      await backend.deleteSegments(["delta-0000000000000001"]);
      const err = await assertRejects(() => backend.readSegment("delta-0000000000000001"));
      assertStringIncludes(err.message, "delta-0000000000000001");
      await assertRejects(() => Deno.stat(`${dir}/a`), Deno.errors.NotFound);
      // Writing creates the directories and the database.
      await backend.writeManifest(new Uint8Array([1]));
      assert((await Deno.stat(path)).isFile);
      assertEquals(await backend.readManifest(), new Uint8Array([1]));
    } finally {
      await backend.close();
    }
  });
});

Deno.test("kvBackend: close() leaves a caller's Deno.Kv open and can be called again", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const backend = kvBackend(kv, { prefix: ["p"] });
    await backend.writeManifest(new Uint8Array([5]));
    await backend.close();
    await backend.close();
    assertEquals((await kv.get(["p", false, "manifest"])).value, new Uint8Array([5]));
    // The backend still works: it uses the same Deno.Kv.
    assertEquals(await backend.readManifest(), new Uint8Array([5]));
  } finally {
    kv.close();
  }
});

Deno.test("kvBackend: readable after SIGKILL in the middle of a run", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    const fixture = new URL("../fixtures/kv_sigkill_flow.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--unstable-kv", "-A", fixture, path],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let killed = false;
    const stderr = (async () => {
      let text = "";
      for await (const s of child.stderr.pipeThrough(new TextDecoderStream())) {
        text += s;
        if (!killed && text.includes("READY\n")) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
      return text;
    })();
    const stdout = (async () => {
      let text = "";
      for await (const s of child.stdout.pipeThrough(new TextDecoderStream())) text += s;
      return text;
    })();
    const [status, out1, err1] = await Promise.all([child.status, stdout, stderr]);
    assert(killed, `the child never said READY; stderr:\n${err1}`);
    assertEquals(status.signal, "SIGKILL", err1);
    assert(!err1.includes("FINISHED"), "the child finished before it was killed");

    // Run 1's output as printed: a line cut by the kill was not delivered.
    const lines1 = out1.split("\n").slice(0, -1);
    const run1 = lines1.map(parseLine);
    const printed = run1.length;
    assertGreaterOrEqual(printed, READY_AFTER);
    assertLess(printed, ITEMS);
    // In order, from item 0, each counted once.
    run1.forEach(([i, count], at) => {
      assertEquals(i, at);
      assertEquals(count, Math.floor(i / KEYS) + 1);
    });

    // The store loads: committed epochs, the state of all 8 keys.
    const report = await inspectStore(kvBackend(path));
    assertEquals(report.flowId, "kv_sigkill");
    assertGreater(report.lastEpoch, 0);
    assertEquals(report.steps.find((s) => s.stepId === "kv_sigkill.count")?.keys, KEYS);

    // Run 2 over the same store resumes after the last committed epoch.
    const out2: string[] = [];
    const summary = await run(sigkillFlow(new TestingSink(out2)), {
      recovery: { backend: kvBackend(path) },
      epochInterval: 1000,
    });
    assertEquals(summary.status, "eof");
    assertEquals(summary.resumedFrom, report.lastEpoch);
    const run2 = out2.map(parseLine);
    const resumeAt = run2[0]![0];
    // No item lost: run 2 starts at or before the first item run 1 did not print, ...
    assertGreater(resumeAt, 0);
    assertLessOrEqual(resumeAt, printed);
    // ... and goes on to the end, every item once, with counts that continue from the
    // restored state (exactly once for the state).
    assertEquals(run2.length, ITEMS - resumeAt);
    run2.forEach(([i, count], at) => {
      assertEquals(i, resumeAt + at);
      assertEquals(count, Math.floor(i / KEYS) + 1);
    });
    // The duplicates (at least once for the output) are exactly the suffix of run 1 after
    // its last commit.
    assertEquals(lines1.slice(resumeAt), out2.slice(0, printed - resumeAt));
    // Whatever the kill left half-written was removed; every chunk belongs to a segment.
    await withKv(path, async (kv) => assertEquals(await kvOrphanGroups(kv), []));
  });
});

function parseLine(line: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(line);
  assert(m !== null, `unexpected output line ${JSON.stringify(line)}`);
  return [Number(m[1]), Number(m[2])];
}

Deno.test("kvBackend without --unstable-kv: a clear error on first use", async () => {
  await withTempDir(async (dir) => {
    const module = new URL("../../src/recovery/deno_kv.ts", import.meta.url).href;
    const script = `${dir}/use_kv.ts`;
    await Deno.writeTextFile(
      script,
      `import { kvBackend } from ${JSON.stringify(module)};\n` +
        `const backend = kvBackend(${JSON.stringify(`${dir}/store.sqlite`)});\n` +
        `try { await backend.readManifest(); await backend.writeManifest(new Uint8Array(1)); }\n` +
        `catch (err) { console.log((err as Error).message); }\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(
      new TextDecoder().decode(out.stdout),
      `Cannot open Deno KV ${dir}/store.sqlite prefix ["weir"]: Deno KV is unstable; run ` +
        `with --unstable-kv\n`,
      new TextDecoder().decode(out.stderr),
    );
    // Reading a database that does not exist needs no Deno KV, and created nothing.
    await assertRejects(() => Deno.stat(`${dir}/store.sqlite`), Deno.errors.NotFound);
  });
});
