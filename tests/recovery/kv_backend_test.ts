// kvBackend's hardening: one writer at a time (lease + fencing token, with real processes
// stopped and killed), read-only listing, isolated prefixes, private files.
import {
  assert,
  assertEquals,
  assertGreater,
  assertLess,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { inspectStore, RecoveryError, run } from "../../mod.ts";
import { kvBackend } from "../../src/recovery/deno_kv.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { kvOrphanGroups, kvRoot, withKv } from "./_stores.ts";
import { randomBytes } from "./conformance.ts";
import { writerFlow } from "./fixtures/kv_writer.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const WRITER = new URL("./fixtures/kv_writer.ts", import.meta.url).pathname;
const REPO = new URL("../../", import.meta.url).pathname;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_kv_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every key of the database with its versionstamp: what a write would change. */
async function dump(path: string): Promise<string[]> {
  return await withKv(path, async (kv) => {
    const out: string[] = [];
    for await (const e of kv.list({ prefix: [] })) {
      out.push(`${JSON.stringify(e.key)}@${e.versionstamp}`);
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------
// The single writer, in one process

Deno.test("kvBackend claim: a second backend is refused while the first holds the store; close releases it", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const first = kvBackend(kv);
    const second = kvBackend(kv);
    assertEquals(await first.claim!(), true);
    assertEquals(await first.claim!(), true);
    const t0 = performance.now();
    assertEquals(await second.claim!(), false);
    // A holder of this process is known to be alive: no need to watch the lease.
    assertLess(performance.now() - t0, 1000);
    await first.close();
    assertEquals((await kv.get([...kvRoot(), "lease"])).value, null);
    const t1 = performance.now();
    assertEquals(await second.claim!(), true);
    assertLess(performance.now() - t1, 1000);
    await second.close();
  } finally {
    kv.close();
  }
});

Deno.test("kvBackend claim: a lease renewed by another process is refused; an abandoned one is taken after one lease time", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const leaseKey = [...kvRoot(), "lease"];
    const lease = (holder: string, expiresAt: number) => ({ holder, expiresAt, leaseMs: 400 });
    // Another process's live lease, renewed every 100 ms (its clock may disagree with ours).
    await kv.set(leaseKey, lease("other", Date.now() - 10_000));
    const renewer = setInterval(() => void kv.set(leaseKey, lease("other", 0)), 100);
    const t0 = performance.now();
    try {
      assertEquals(await kvBackend(kv, { leaseMs: 400 }).claim!(), false);
    } finally {
      clearInterval(renewer);
    }
    assertLess(performance.now() - t0, 400);

    // The same lease, no longer renewed (its holder died): taken once it did not change for
    // a whole lease time — the holder's, recorded in the lease, not the claimant's own
    // (5 s by default) — whatever its expiry says.
    await kv.set(leaseKey, lease("dead", Date.now() + 3_600_000));
    const tokenBefore = await kv.get([...kvRoot(), "token"]);
    const backend = kvBackend(kv);
    const t1 = performance.now();
    assertEquals(await backend.claim!(), true);
    const waited = performance.now() - t1;
    assert(waited >= 400 && waited < 1500, `waited ${waited} ms`);
    // Taking it bumped the fencing token.
    const token = await kv.get<number>([...kvRoot(), "token"]);
    assertEquals([tokenBefore.value, token.value], [null, 1]);
    // While held, the lease is renewed (every 1.25 s by default): its versionstamp moves.
    const held = await kv.get(leaseKey);
    assertEquals((held.value as { leaseMs: number }).leaseMs, 5000);
    await new Promise((r) => setTimeout(r, 1400));
    assert((await kv.get(leaseKey)).versionstamp !== held.versionstamp);
    await backend.close();

    // A lease whose expiry is long past is taken at once.
    await kv.set(leaseKey, lease("ancient", Date.now() - 3_600_000));
    const t2 = performance.now();
    const next = kvBackend(kv, { leaseMs: 400 });
    assertEquals(await next.claim!(), true);
    assertLess(performance.now() - t2, 300);
    assertEquals((await kv.get<number>([...kvRoot(), "token"])).value, 2);
    await next.close();
  } finally {
    kv.close();
  }
});

Deno.test("kvBackend claim: once another run took the store over, every write fails and changes nothing", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    const backend = kvBackend(path, { leaseMs: 400 });
    try {
      await backend.writeManifest(new Uint8Array([1]));
      await backend.writeSegment("delta-0000000000000001", randomBytes(100 * KiB));
      assertEquals(await backend.claim!(), true);
      await backend.writeSegment("delta-0000000000000002", randomBytes(100 * KiB));
      // Another run takes the store over (as one would after this process stalled past its
      // lease): it bumps the token.
      await withKv(path, async (kv) => {
        const token = await kv.get<number>([...kvRoot(), "token"]);
        await kv.atomic().check(token).set([...kvRoot(), "token"], token.value! + 1)
          .set([...kvRoot(), "lease"], { holder: "other", expiresAt: 0, leaseMs: 400 })
          .commit();
      });
      // A crash's leftovers, which only the claimed writer may collect.
      await withKv(path, async (kv) => {
        await kv.set([...kvRoot(), "chunk", "delta-0000000000000009", "dead", 0], 1);
      });
      const before = await dump(path);
      const lost = (what: string) =>
        `${what} in ${backend.description} failed: this backend lost its claim on the store ` +
        `to another run (its lease ran out while this process was stalled or stopped, and ` +
        `the other run took the store over); nothing was written. Stop this run: the other ` +
        `run owns the store now`;
      // The first write finds the token changed (the commit's check fails)...
      const err = await assertRejects(
        () => backend.writeSegment("delta-0000000000000003", randomBytes(800 * KiB)),
        Error,
      );
      assertEquals(err.message, lost("Writing segment delta-0000000000000003"));
      // ... and every later one is refused before it commits anything.
      await assertRejects(
        () => backend.writeManifest(new Uint8Array([2])),
        Error,
        lost("Writing the manifest"),
      );
      await assertRejects(
        () => backend.deleteSegments(["delta-0000000000000001"]),
        Error,
        lost("Deleting segments"),
      );
      await assertRejects(
        () => backend.writeSegment("delta-0000000000000001", new Uint8Array([9])),
        Error,
        lost("Writing segment delta-0000000000000001"),
      );
      await assertRejects(
        () => backend.collectGarbage!(),
        Error,
        lost("Deleting orphaned chunks"),
      );
      await backend.close();
      // Not even the release of the lease: it is the other run's.
      assertEquals(await dump(path), before);
      // Reading still works.
      assertEquals(await backend.listSegments(), [
        "delta-0000000000000001",
        "delta-0000000000000002",
      ]);
    } finally {
      await backend.close();
    }
  });
});

Deno.test("kvBackend claim: a renewal that finds the token changed marks the claim lost", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const backend = kvBackend(kv, { leaseMs: 200 });
    assertEquals(await backend.claim!(), true);
    const token = await kv.get<number>([...kvRoot(), "token"]);
    await kv.set([...kvRoot(), "token"], token.value! + 1);
    // The next renewals (every 50 ms) fail their check.
    await new Promise((r) => setTimeout(r, 150));
    const lease = await kv.get([...kvRoot(), "lease"]);
    await new Promise((r) => setTimeout(r, 150));
    assertEquals((await kv.get([...kvRoot(), "lease"])).versionstamp, lease.versionstamp);
    await assertRejects(
      () => backend.writeManifest(new Uint8Array([1])),
      Error,
      "this backend lost its claim on the store to another run",
    );
    assertEquals((await kv.get([...kvRoot(), "manifest"])).value, null);
  } finally {
    kv.close();
  }
});

Deno.test("kvBackend options: leaseMs, fileMode, dirMode and the prefix are validated", () => {
  for (const leaseMs of [0, 99, Number.NaN, Infinity, 600_001, "5000" as unknown as number]) {
    assertThrows(
      () => kvBackend(":memory:", { leaseMs }),
      RangeError,
      `leaseMs must be a number of ms from 100 to 600000, got ${leaseMs}`,
    );
  }
  assertThrows(
    () => kvBackend(":memory:", { fileMode: 0o1777 }),
    RangeError,
    `fileMode must be permission bits from 0 to 0o777, got ${0o1777}`,
  );
  assertThrows(
    () => kvBackend(":memory:", { dirMode: -1 }),
    RangeError,
    "dirMode must be permission bits from 0 to 0o777, got -1",
  );
  assertThrows(
    () => kvBackend(":memory:", { prefix: ["weir", false, "x"] }),
    TypeError,
    `The prefix ["weir",false,"x"] contains false, which kvBackend reserves: every key of a ` +
      `store lies under [...prefix, false], which keeps stores under different prefixes ` +
      `apart; use a prefix without false`,
  );
});

// ---------------------------------------------------------------------------------------
// The single writer, with real processes (tests/recovery/fixtures/kv_writer.ts)

/** A kv_writer process: its stdin, and its stdout and stderr as they come. */
class Writer {
  readonly child: Deno.ChildProcess;
  readonly t0 = performance.now();
  out = "";
  err = "";
  exited = false;
  readonly status: Promise<Deno.CommandStatus>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<unknown>;

  constructor(path: string, leaseMs?: number) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-kv",
        "--config",
        `${REPO}deno.json`,
        WRITER,
        path,
        ...(leaseMs === undefined ? [] : [String(leaseMs)]),
      ],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.child.stdin.getWriter();
    const read = async (s: ReadableStream<Uint8Array>, to: "out" | "err") => {
      for await (const t of s.pipeThrough(new TextDecoderStream())) this[to] += t;
    };
    this.#done = Promise.all([read(this.child.stdout, "out"), read(this.child.stderr, "err")]);
    this.status = this.child.status.then(async (s) => {
      await this.#done;
      this.exited = true;
      return s;
    });
  }

  /** Commits announced before the last `send`. */
  #commitsAtSend = 0;

  async send(lines: string): Promise<void> {
    this.#commitsAtSend = this.commits();
    await this.#stdin.write(new TextEncoder().encode(lines));
  }

  async end(): Promise<void> {
    await this.#stdin.close().catch(() => {});
  }

  /** Waits until `pred` holds (or fails, with what the process said). */
  async until(pred: () => boolean, what: string, ms = 30_000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!pred()) {
      if (this.exited || performance.now() > deadline) {
        throw new Error(
          `Waiting for ${what}: ${this.exited ? "exited" : "timed out"}\n` +
            `--- stdout ---\n${this.out}\n--- stderr ---\n${this.err}`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  commits(): number {
    return this.err.split("\n").filter((l) => l.startsWith("COMMITTED ")).length;
  }

  /**
   * Waits for `n` output lines and the commits after them: the process commits only after
   * input (an epoch per activation), so once it commits nothing for 100 ms they are done.
   */
  async committed(n: number): Promise<void> {
    await this.until(() => this.out.split("\n").length > n, `${n} output lines`);
    await this.until(() => this.commits() > this.#commitsAtSend, "a commit");
    for (let c = this.commits();; c = this.commits()) {
      await new Promise((r) => setTimeout(r, 100));
      if (this.commits() === c) return;
    }
  }

  claimedAfterMs(): number {
    const m = /CLAIMED (\d+)/.exec(this.err);
    assert(m !== null, this.err);
    return Number(m[1]);
  }
}

/**
 * SIGSTOPs `w` at a moment it is not inside a commit. A process stopped inside a commit
 * holds SQLite's write lock, and every other process's writes wait until it resumes or
 * dies; a probe write (outside any store's keys) tells, and the stop is retried then.
 */
async function stopOutsideCommit(w: Writer, path: string): Promise<void> {
  const kv = await Deno.openKv(path);
  try {
    for (let i = 0;; i++) {
      w.child.kill("SIGSTOP");
      const probe = kv.set(["probe"], i);
      const done = await Promise.race([
        probe.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 500)),
      ]);
      if (done) return;
      w.child.kill("SIGCONT");
      await probe;
      await new Promise((r) => setTimeout(r, 37));
    }
  } finally {
    kv.close();
  }
}

/** Output lines, sorted (lines of one activation are grouped by key). */
function sorted(out: string): string[] {
  return out.split("\n").filter((l) => l !== "").sort();
}

/** The state of a kv_writer store, resumed in this process: one line per key of `keys`. */
async function resumeCounts(path: string, keys: string[]): Promise<string[]> {
  const out: string[] = [];
  await run(writerFlow(new TestingSource(keys), new TestingSink(out)), {
    recovery: { backend: kvBackend(path) },
  });
  return out;
}

Deno.test("kvBackend single writer: a second run on a live run's store is refused; the first finishes intact", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    const first = new Writer(path);
    try {
      await first.send("a\nb\na\n");
      await first.committed(3);
      const second = new Writer(path);
      await second.send("a\n");
      await second.end();
      const status = await second.status;
      console.log(
        `second run refused and exited ${(performance.now() - second.t0).toFixed(0)} ms ` +
          `after it started`,
      );
      assertEquals(status.code, 1, second.err);
      assertStringIncludes(
        second.err,
        `FAILED The recovery store in Deno KV ${path} prefix ["weir"] is in use by another ` +
          `run (another process, or another run in this one); two writers would corrupt it |`,
      );
      assertEquals(second.out, "");
      // The first run goes on, commits and finishes.
      await first.send("a\nc\n");
      await first.end();
      assertEquals((await first.status).code, 0, first.err);
      assertEquals(sorted(first.out), ["a:1", "a:2", "a:3", "b:1", "c:1"]);
      assertStringIncludes(first.err, "DONE");
      const report = await inspectStore(kvBackend(path));
      assertEquals(report.flowId, "kv_writer");
      assertEquals(report.steps.find((s) => s.stepId === "kv_writer.count")?.keys, 3);
      assertEquals(await resumeCounts(path, ["a", "b", "c"]), ["a:4", "b:2", "c:2"]);
      await withKv(path, async (kv) => assertEquals(await kvOrphanGroups(kv), []));
    } finally {
      await first.end();
      if (!first.exited) first.child.kill("SIGKILL");
      await first.status;
    }
  });
});

Deno.test("kvBackend single writer: a run restarted after SIGKILL waits out the lease and resumes", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    const first = new Writer(path);
    try {
      await first.send("a\nb\na\n");
      await first.committed(3);
    } finally {
      first.child.kill("SIGKILL");
    }
    assertEquals((await first.status).signal, "SIGKILL");
    // Restarted at once, with the default lease (5 s): no manual step.
    const second = new Writer(path);
    await second.send("a\nb\n");
    await second.end();
    assertEquals((await second.status).code, 0, second.err);
    assertEquals(sorted(second.out), ["a:3", "b:2"]);
    const waited = second.claimedAfterMs();
    console.log(`restart after SIGKILL: store claimed ${waited} ms after the process started`);
    assertGreater(waited, 4000);
    assertLess(waited, 10_000);
  });
});

Deno.test("kvBackend single writer: a stopped writer whose store was taken over fails its next commit and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    const zombie = new Writer(path, 1000);
    try {
      await zombie.send("a\nb\n");
      await zombie.committed(2);
      await stopOutsideCommit(zombie, path);
      // A second run waits out the stopped writer's lease, claims the store and commits.
      const second = new Writer(path, 1000);
      await second.send("a\na\nz\n");
      await second.end();
      assertEquals((await second.status).code, 0, second.err);
      assertEquals(sorted(second.out), ["a:2", "a:3", "z:1"]);
      const waited = second.claimedAfterMs();
      assertGreater(waited, 900);
      const before = await dump(path);
      // The zombie wakes up and goes on.
      const commitsBefore = zombie.commits();
      zombie.child.kill("SIGCONT");
      await zombie.send("b\n").catch(() => {});
      await zombie.end();
      const status = await zombie.status;
      assertEquals(status.code, 1, zombie.err);
      assertStringIncludes(
        zombie.err,
        `in Deno KV ${path} prefix ["weir"] failed: this backend lost its claim on the store ` +
          `to another run (its lease ran out while this process was stalled or stopped, and ` +
          `the other run took the store over); nothing was written. Stop this run: the other ` +
          `run owns the store now |`,
      );
      assertEquals(zombie.commits(), commitsBefore);
      // It wrote nothing: every key and versionstamp as the second run left them.
      assertEquals(await dump(path), before);
      // The store holds the second run's state.
      assertEquals(await resumeCounts(path, ["a", "b", "z"]), ["a:4", "b:2", "z:2"]);
    } finally {
      await zombie.end();
      if (!zombie.exited) zombie.child.kill("SIGKILL");
      await zombie.status;
    }
  });
});

// ---------------------------------------------------------------------------------------
// Reading never writes

Deno.test("kvBackend: listing, reading the manifest and segments on a second instance never touch another instance's write in progress", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    // The writer's connection holds its segment write after the first chunk commit, until
    // the gate opens: a write in progress, as another process's would be.
    const kv = await Deno.openKv(path);
    let open!: () => void;
    const gate = new Promise<void>((r) => open = r);
    let armed = false;
    let held!: () => void;
    const holding = new Promise<void>((r) => held = r);
    kv.atomic = () => {
      const op = Deno.Kv.prototype.atomic.call(kv);
      const commit = op.commit.bind(op);
      op.commit = async () => {
        const res = await commit();
        if (armed) {
          armed = false;
          held();
          await gate;
        }
        return res;
      };
      return op;
    };
    const writer = kvBackend(kv);
    const reader = kvBackend(path);
    let write: Promise<void> | undefined;
    try {
      await writer.writeManifest(new Uint8Array([1]));
      const small = randomBytes(10);
      await writer.writeSegment("delta-0000000000000001", small);
      const bytes = randomBytes(3 * MiB);
      armed = true;
      write = writer.writeSegment("base-0000000000000002", bytes);
      await holding;
      const before = await dump(path);
      for (let i = 0; i < 3; i++) {
        assertEquals(await reader.readManifest(), new Uint8Array([1]));
        assertEquals(await reader.listSegments(), ["delta-0000000000000001"]);
        assertEquals(await reader.readSegment("delta-0000000000000001"), small);
      }
      // Not a key changed, and the write completes.
      assertEquals(await dump(path), before);
      open();
      await write;
      assertEquals(await reader.readSegment("base-0000000000000002"), bytes);
    } finally {
      open();
      await write?.catch(() => {});
      await writer.close();
      await reader.close();
      kv.close();
    }
  });
});

// ---------------------------------------------------------------------------------------
// Prefixes

/** Prefixes that nest, and whose last parts look like kvBackend's own key names. */
const NESTED: Deno.KvKey[] = [
  ["weir"],
  ["weir", "seg"],
  ["weir", "chunk"],
  ["weir", "manifest"],
  ["weir", "lease"],
  ["weir", "token"],
  ["weir", "false"],
  ["weir", "seg", "delta-0000000000000001"],
];

Deno.test("kvBackend: stores under nested prefixes in one database commit, fold and collect garbage without touching each other", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    const config = (prefix: Deno.KvKey) => ({
      backend: kvBackend(path, { prefix }),
      create: true,
      backupInterval: 0,
    });
    const runOnce = async (prefix: Deno.KvKey, keys: string[]) => {
      const out: string[] = [];
      await run(writerFlow(new TestingSource(keys), new TestingSink(out)), {
        recovery: config(prefix),
        epochInterval: 0,
      });
      return out.sort();
    };
    // Every store runs (commits), then runs again (resumes, commits, folds), interleaved.
    // The source resumes at its position: a run's input extends the previous run's.
    const input = (i: number, runs: number) =>
      [`s${i}`, "a", `s${i}`, "a", `s${i}`, "a", `s${i}`].slice(0, 1 + 2 * runs);
    for (const [i, prefix] of NESTED.entries()) {
      assertEquals(await runOnce(prefix, input(i, 1)), ["a:1", `s${i}:1`, `s${i}:2`]);
    }
    for (const [i, prefix] of NESTED.entries()) {
      assertEquals(await runOnce(prefix, input(i, 2)), ["a:2", `s${i}:3`]);
    }
    // Each store's segments, and a crash's leftovers under each store's own keys.
    const segments = async (prefix: Deno.KvKey) => {
      const backend = kvBackend(path, { prefix });
      const out = new Map<string, Uint8Array>();
      for (const n of (await backend.listSegments()).sort()) {
        out.set(n, await backend.readSegment(n));
      }
      await backend.close();
      return out;
    };
    const before = await Promise.all(NESTED.map(segments));
    // backupInterval 0: the second runs folded their deltas into a base.
    for (const m of before) assert([...m.keys()].some((n) => n.startsWith("base-")));
    for (const [i, prefix] of NESTED.entries()) {
      assert([...before[i]!.keys()].every((n) => /^(delta|base)-\d{16}$/.test(n)));
      await withKv(path, async (kv) => {
        await kv.set([...kvRoot(prefix), "chunk", "delta-0000000000000100", "dead", 0], i);
      });
    }
    for (const prefix of NESTED) {
      const backend = kvBackend(path, { prefix });
      assertEquals(await backend.claim!(), true);
      await backend.collectGarbage!();
      await backend.close();
      assertEquals(await withKv(path, (kv) => kvOrphanGroups(kv, prefix)), []);
    }
    for (const [i, prefix] of NESTED.entries()) {
      // Every segment as it was, and no other.
      assertEquals(await segments(prefix), before[i]);
      const report = await inspectStore(kvBackend(path, { prefix }));
      assertEquals(report.flowId, "kv_writer");
      assertEquals(report.steps.find((s) => s.stepId === "kv_writer.count")?.keys, 2);
    }
    // A third run of each store: its state is its own.
    for (const [i, prefix] of NESTED.entries()) {
      assertEquals(await runOnce(prefix, input(i, 3)), ["a:3", `s${i}:4`]);
    }
  });
});

Deno.test("kvBackend: a store in the key layout of an earlier version is refused with a clear error", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store.sqlite`;
    await withKv(path, async (kv) => {
      await kv.set(["weir", "manifest"], new TextEncoder().encode("{}"));
      await kv.set(["weir", "seg", "delta-0000000000000001"], { chunks: 0 });
    });
    const backend = kvBackend(path);
    const message = `Deno KV ${path} prefix ["weir"] holds a recovery store in the key ` +
      `layout of an earlier weir version (its manifest is at ["weir","manifest"]; this ` +
      `version keeps a store's keys under ["weir",false]). Finish it with the earlier ` +
      `version, or delete its keys, or use another prefix`;
    await assertRejects(() => backend.readManifest(), Error, message);
    const err = await assertRejects(
      () =>
        run(writerFlow(new TestingSource(["a"]), new TestingSink([])), {
          recovery: { backend, create: true },
        }),
      RecoveryError,
    );
    assertEquals(err.message, `Cannot read the recovery store in ${backend.description}`);
    assertEquals((err.cause as Error).message, message);
    // Nothing was written over it.
    assertEquals(await withKv(path, async (kv) => (await kv.get(kvRoot())).value), null);
    assertEquals(
      (await dump(path)).map((k) => k.split("@")[0]),
      [`["weir","manifest"]`, `["weir","seg","delta-0000000000000001"]`],
    );
  });
});

// ---------------------------------------------------------------------------------------
// Private files

Deno.test("kvBackend: a database file it creates is 0600 in new directories of 0700; options widen them", async () => {
  if (Deno.build.os === "windows") return;
  await withTempDir(async (dir) => {
    const mode = async (p: string) => (await Deno.stat(p)).mode! & 0o777;
    const path = `${dir}/a/b/store.sqlite`;
    const backend = kvBackend(path);
    await backend.writeManifest(new Uint8Array([1]));
    await backend.writeSegment("delta-0000000000000001", randomBytes(100 * KiB));
    assertEquals(await mode(path), 0o600);
    assertEquals(await mode(`${dir}/a`), 0o700);
    assertEquals(await mode(`${dir}/a/b`), 0o700);
    // SQLite's write-ahead log and shared memory files, while the database is open.
    const files = [...Deno.readDirSync(`${dir}/a/b`)].map((e) => e.name).sort();
    assertEquals(files, ["store.sqlite", "store.sqlite-shm", "store.sqlite-wal"]);
    for (const f of files) assertEquals(await mode(`${dir}/a/b/${f}`), 0o600, f);
    await backend.close();

    const wide = `${dir}/c/store.sqlite`;
    const widened = kvBackend(wide, { fileMode: 0o644, dirMode: 0o755 });
    await widened.writeManifest(new Uint8Array([1]));
    assertEquals(await mode(wide), 0o644);
    assertEquals(await mode(`${dir}/c`), 0o755);
    await widened.close();

    // An existing database file and directory are left as they are.
    await Deno.chmod(wide, 0o664);
    const again = kvBackend(wide);
    await again.writeManifest(new Uint8Array([2]));
    assertEquals(await mode(wide), 0o664);
    assertEquals(await mode(`${dir}/c`), 0o755);
    await again.close();
  });
});
