// The README's permission table, checked: each feature runs with exactly the flags the table
// lists, and fails, naming what it could not access, with one of them missing. Each case is a
// real Deno process (tests/fixtures/permissions_flow.ts) in a fresh directory.
import { fileURLToPath } from "node:url";
import { assertEquals, assertStringIncludes } from "@std/assert";
import { type Ran, runDeno } from "./_deno_process.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/permissions_flow.ts", import.meta.url));
const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

/** Runs the fixture with `flags` in `cwd`, so relative paths in flags and arguments agree. */
function runWith(cwd: string, flags: string[], args: string[]): Promise<Ran> {
  return runDeno(["run", "--config", CONFIG, ...flags, FIXTURE, ...args], cwd);
}

function assertOk(r: Ran, stdout: string): void {
  assertEquals([r.code, r.stdout, r.stderr], [0, stdout, ""]);
}

function assertDenied(r: Ran, message: string): void {
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, message);
}

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "weir_permissions_" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FileSource needs read on its file, and nothing else", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/in.txt`, "one\ntwo\n");
    assertOk(
      await runWith(dir, ["--allow-read=in.txt"], ["source", "in.txt"]),
      "ok eof, read 2 lines\n",
    );
    assertDenied(
      await runWith(dir, [], ["source", "in.txt"]),
      'DataflowError: Step "flow.lines" on partition "in.txt": Failed to build the partition: ' +
        'Requires read access to "in.txt", run again with the --allow-read flag',
    );
  });
});

Deno.test("CSVSource needs read on its file, and nothing else", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/in.csv`, 'a,b\n1,"x,y"\n2,z\n');
    assertOk(
      await runWith(dir, ["--allow-read=in.csv"], ["csv", "in.csv"]),
      "ok eof, read 2 lines\n",
    );
    assertDenied(
      await runWith(dir, [], ["csv", "in.csv"]),
      'DataflowError: Step "flow.lines" on partition "in.csv": Failed to build the partition: ' +
        'Cannot open "in.csv" for reading: Requires read access to "in.csv", run again with the ' +
        "--allow-read flag",
    );
  });
});

Deno.test("DirSource needs read on its directory, and nothing else", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/in`);
    await Deno.writeTextFile(`${dir}/in/a.jsonl`, "1\n2\n");
    await Deno.writeTextFile(`${dir}/in/b.jsonl`, "3\n");
    assertOk(
      await runWith(dir, ["--allow-read=in"], ["dirsrc", "in"]),
      "ok eof, read 3 lines\n",
    );
    assertDenied(
      await runWith(dir, [], ["dirsrc", "in"]),
      'DataflowError: Step "flow.lines": Failed to list the source\'s partitions: Cannot list ' +
        'the directory "in": Requires read access to "in", run again with the --allow-read flag',
    );
  });
});

Deno.test("FileSink needs write on its file, and read too to resume", async () => {
  await inTempDir(async (dir) => {
    const flags = ["--allow-read=out.txt,state", "--allow-write=out.txt,state"];
    assertOk(await runWith(dir, flags, ["sink", "out.txt", "state", "a"]), "ok eof\n");
    assertOk(await runWith(dir, flags, ["sink", "out.txt", "state", "b"]), "ok eof\n");
    assertEquals(await Deno.readTextFile(`${dir}/out.txt`), "a\n");
    // Without read on the file: the resumed partition cannot check the file's size.
    assertDenied(
      await runWith(dir, ["--allow-read=state", "--allow-write=out.txt,state"], [
        "sink",
        "out.txt",
        "state",
        "c",
      ]),
      `Requires read access to "${dir}/out.txt", run again with the --allow-read flag`,
    );
    // Without write: the file cannot be opened for writing.
    assertDenied(
      await runWith(dir, ["--allow-read=out.txt,state", "--allow-write=state"], [
        "sink",
        "out.txt",
        "state",
        "d",
      ]),
      'Requires write access to "out.txt", run again with the --allow-write flag',
    );
  });
});

Deno.test("DirSink needs read and write on its directory", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/out`);
    const flags = ["--allow-read=out,state", "--allow-write=out,state"];
    assertOk(await runWith(dir, flags, ["dir", "out", "state", "a"]), "ok eof\n");
    assertOk(await runWith(dir, flags, ["dir", "out", "state", "b"]), "ok eof\n");
    assertDenied(
      await runWith(dir, ["--allow-read=state", "--allow-write=out,state"], [
        "dir",
        "out",
        "state",
        "c",
      ]),
      `Requires read access to "${dir}/out/part_`,
    );
  });
});

Deno.test("fsBackend needs read and write on its directory", async () => {
  await inTempDir(async (dir) => {
    const flags = ["--allow-read=state", "--allow-write=state"];
    assertOk(await runWith(dir, flags, ["fs", "state"]), "ok eof\n");
    assertOk(await runWith(dir, flags, ["fs", "state"]), "ok eof\n");
    assertDenied(
      await runWith(dir, ["--allow-read=state"], ["fs", "state"]),
      'Requires write access to "state", run again with the --allow-write flag',
    );
    assertDenied(
      await runWith(dir, ["--allow-write=state"], ["fs", "state"]),
      "RecoveryError: Cannot read the recovery store in directory state",
    );
  });
});

Deno.test("kvBackend needs --unstable-kv and read and write on the database's directory", async () => {
  await inTempDir(async (dir) => {
    assertOk(
      await runWith(dir, ["--unstable-kv", "--allow-read=db", "--allow-write=db"], [
        "kv",
        "db/weir.sqlite",
      ]),
      "ok eof\n",
    );
    // Once the database exists, read and write on the file suffice.
    const onFile = ["--allow-read=db/weir.sqlite", "--allow-write=db/weir.sqlite"];
    assertOk(
      await runWith(dir, ["--unstable-kv", ...onFile], ["kv", "db/weir.sqlite"]),
      "ok eof\n",
    );
    // Creating it needs read and write on the directory, which kvBackend creates (it checks
    // whether the directory exists first).
    assertDenied(
      await runWith(dir, [
        "--unstable-kv",
        "--allow-read=db2/weir.sqlite",
        "--allow-write=db2/weir.sqlite",
      ], [
        "kv",
        "db2/weir.sqlite",
      ]),
      'Requires read access to "db2", run again with the --allow-read flag',
    );
    assertDenied(
      await runWith(dir, onFile, ["kv", "db/weir.sqlite"]),
      "Deno KV is unstable; run with --unstable-kv",
    );
  });
});

Deno.test("kvBackend on a Deno.Kv of your own needs only --unstable-kv", async () => {
  await inTempDir(async (dir) => {
    assertOk(await runWith(dir, ["--unstable-kv"], ["kvmem"]), "ok eof\n");
  });
});
