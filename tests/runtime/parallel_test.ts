// run(flow, { workers: N }): N Web Workers with key exchange, aligned epochs and rescaling.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { DataflowError, run } from "../../mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import {
  aborting,
  dynamic,
  endless,
  failing,
  keepMax,
  pausedCount,
  pausing,
  runningCount,
  spread,
  toFiles,
  wordCount,
} from "./fixtures/parallel_flows.ts";

const FLOWS = new URL("./fixtures/parallel_flows.ts", import.meta.url);

function sorted<T>(xs: T[]): T[] {
  return [...xs].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
}

function words(n: number, vocabulary: number): string[] {
  let x = 12345;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return `w${x % vocabulary}`;
  });
}

Deno.test("a keyed count on 2 and 3 workers gives the counts of 1 worker", async () => {
  const input = words(3000, 200);
  const one: [string, number][] = [];
  await run(wordCount(input, one, 50));
  assertEquals(one.length, 200);
  for (const workers of [2, 3]) {
    const out: [string, number][] = [];
    const summary = await run(wordCount(input, out, 50), {
      workers,
      module: FLOWS,
      export: "wordCount",
      args: [input, [], 50],
    });
    assertEquals(summary.status, "eof");
    assertEquals(sorted(out), sorted(one));
  }
});

Deno.test("workers: 2 needs the module exporting the flow", async () => {
  await assertRejects(
    () => run(wordCount(["a"]), { workers: 2 }),
    TypeError,
    `Running flow "wc" on 2 workers needs options.module: the URL of the module exporting ` +
      `the flow (import.meta.url), which every worker imports`,
  );
  const failed = (w: string) => new RegExp(`^Worker [01] failed: ${w.replace(/[.()]/g, "\\$&")}$`);
  const notExported = await assertRejects(() =>
    run(wordCount(["a"]), { workers: 2, module: FLOWS })
  );
  assert(
    failed(
      `Flow "wc" is not an export of ${FLOWS.href}; export it, or pass options.export naming ` +
        `the export (or a function returning the flow)`,
    ).test((notExported as Error).message),
    (notExported as Error).message,
  );
  const noSuch = await assertRejects(() =>
    run(wordCount(["a"]), { workers: 2, module: FLOWS, export: "nope" })
  );
  assert(
    failed(`${FLOWS.href} has no export "nope" (options.export)`).test((noSuch as Error).message),
    (noSuch as Error).message,
  );
  const notAFlow = await assertRejects(() =>
    run(wordCount(["a"]), { workers: 2, module: FLOWS, export: "EXAMPLE_ANSWER" })
  );
  assert(
    failed(
      `Export "EXAMPLE_ANSWER" of ${FLOWS.href} is not a Dataflow or a function returning one ` +
        `(options.export)`,
    ).test((notAFlow as Error).message),
    (notAFlow as Error).message,
  );
  const otherFlow = await assertRejects(() =>
    run(wordCount(["a"]), { workers: 2, module: FLOWS, export: "keepMax" })
  );
  assertStringIncludes(
    (otherFlow as Error).message,
    `Export "keepMax" of ${FLOWS.href} built flow "test_df", not "wc"; every worker must build ` +
      `the flow passed to run`,
  );
  await assertRejects(
    () => run(wordCount(["a"]), { workers: 2, module: "flows.ts" }),
    TypeError,
    `options.module must be a module URL such as import.meta.url, got "flows.ts"`,
  );
});

Deno.test("a module that runs its flow when imported is refused in the workers", async () => {
  const err = await assertRejects(
    () => import("./fixtures/unguarded_flow.ts"),
    Error,
  );
  const url = new URL("./fixtures/unguarded_flow.ts", import.meta.url).href;
  assert(
    /^Worker [01] failed: run\(\) was called while a weir worker imported /.test(err.message),
    err.message,
  );
  assertStringIncludes(
    err.message,
    `imported ${url} to build flow "unguarded"; guard the module's runs with if (import.meta.main)`,
  );
});

Deno.test("an error on a worker stops every worker; run rejects naming the step, key and worker", async () => {
  const err = await assertRejects(
    () => run(failing(), { workers: 2, module: FLOWS, export: "failing" }),
    DataflowError,
  );
  // "a", "b", "c" hash to other workers than "bad" or not: the first failure wins.
  assertEquals(err.stepId, "fail.boom");
  assert(err.worker === 0 || err.worker === 1);
  assertEquals(
    err.message,
    `Step "fail.boom" for key ${JSON.stringify(err.key)} on worker ${err.worker}: onBatch ` +
      `failed: no state for you`,
  );
  assertEquals((err.cause as Error).message, "no state for you");
});

Deno.test("redistribute deals items over every worker", async () => {
  const out: [number, string][] = [];
  await run(spread(200, out), { workers: 2, module: FLOWS, export: "spread", args: [200] });
  assertEquals(out.map(([x]) => x).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
  const byWorker = new Map<string, number>();
  for (const [, w] of out) byWorker.set(w, (byWorker.get(w) ?? 0) + 1);
  assertEquals([...byWorker.keys()].sort(), ["weir-0", "weir-1"]);
  assertEquals(byWorker.get("weir-0"), 100);
});

Deno.test("a dynamic source is built on every worker with its index and the count", async () => {
  const out: [string, number][] = [];
  await run(dynamic(5, out), { workers: 3, module: FLOWS, export: "dynamic", args: [5] });
  assertEquals(sorted(out), [["w0/3", 5], ["w1/3", 5], ["w2/3", 5]]);
});

Deno.test("a fixed sink's partitions are each written by the worker owning them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = words(400, 30);
    await run(toFiles(dir, input, 3), {
      workers: 2,
      module: FLOWS,
      export: "toFiles",
      args: [dir, input, 3],
    });
    const seen: string[] = [];
    for (const [i, file] of ["part_0", "part_1", "part_2"].entries()) {
      const lines = (await Deno.readTextFile(`${dir}/${file}`)).trimEnd().split("\n");
      // Partition i of 3 (sorted) belongs to worker i % 2.
      for (const line of lines) assertEquals(line.split("@")[1], `weir-${i % 2}`);
      seen.push(...lines.map((l) => l.split("@")[0]!));
    }
    assertEquals(seen.sort(), [...input].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rescaling: Bytewax's running max resumes on 3, then 5, then 1 worker", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recovery = () => ({ backend: fsBackend(dir), create: true });
    const go = async (workers: number) => {
      const out: [string, number][] = [];
      const flow = keepMax(out);
      const summary = await run(flow, {
        workers,
        module: FLOWS,
        export: "keepMax",
        epochInterval: 0,
        recovery: recovery(),
      });
      assertEquals(summary.status, "eof");
      return sorted(out);
    };
    assertEquals(await go(3), [["a", 4], ["b", 4]]);
    assertEquals(await go(5), [["a", 4], ["b", 5]]);
    assertEquals(await go(1), [["a", 8], ["b", 5]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the graceful stop stops every worker after a committed epoch", async () => {
  const out: [string, number][] = [];
  const stop = new AbortController();
  const flow = endless(out);
  const watch = setInterval(() => out.length >= 50 && stop.abort(), 1);
  try {
    const summary = await run(flow, {
      workers: 2,
      module: FLOWS,
      export: "endless",
      epochInterval: 0,
      signal: stop.signal,
    });
    assertEquals(summary.status, "stopped");
  } finally {
    clearInterval(watch);
  }
  // Every key's running count is 1, 2, 3… with no gap: per-key order holds across workers.
  const perKey = new Map<string, number[]>();
  for (const [k, n] of out) perKey.set(k, [...(perKey.get(k) ?? []), n]);
  for (const [, ns] of perKey) assertEquals(ns, ns.map((_, i) => i + 1));
});

Deno.test("a graceful stop on 2 workers commits; the run resumes on 3 exactly after it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recovery = { backend: fsBackend(dir), create: true };
    const out: [string, number][] = [];
    const stop = new AbortController();
    const watch = setInterval(() => out.length >= 300 && stop.abort(), 1);
    const first = await run(runningCount(3000, out), {
      workers: 2,
      module: FLOWS,
      export: "runningCount",
      args: [3000],
      epochInterval: 5,
      recovery,
      signal: stop.signal,
    }).finally(() => clearInterval(watch));
    assertEquals(first.status, "stopped");
    const stoppedAt = out.length;
    assert(stoppedAt >= 300 && stoppedAt < 3000, `${stoppedAt} items before the stop`);
    const second = await run(runningCount(3000, out), {
      workers: 3,
      module: FLOWS,
      export: "runningCount",
      args: [3000],
      recovery: { backend: fsBackend(dir) },
    });
    assertEquals(second.status, "eof");
    assertEquals(second.resumedFrom, first.epoch);
    // Nothing lost, nothing repeated: each key counts 1, 2, 3… across the two runs.
    assertEquals(out.length, 3000);
    const perKey = new Map<string, number[]>();
    for (const [k, n] of out) perKey.set(k, [...(perKey.get(k) ?? []), n]);
    for (const [, ns] of perKey) assertEquals(ns, ns.map((_, i) => i + 1));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a source's AbortExecution on a worker aborts every worker and leaves the store usable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out: [string, number][] = [];
    const opts = {
      workers: 2,
      module: FLOWS,
      export: "aborting",
      args: [10],
      epochInterval: 0,
      recovery: { backend: fsBackend(dir), create: true },
    };
    const summary = await run(aborting(10, out), opts);
    assertEquals(summary.status, "aborted");
    assertEquals(out.length <= 10, true);
    // The store was released: a second run (a new backend) opens it, and aborts again.
    const again = { ...opts, recovery: { backend: fsBackend(dir) } };
    assertEquals((await run(aborting(10, []), again)).status, "aborted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with epochInterval 0, idle workers sleep instead of ending empty epochs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out: string[] = [];
    const summary = await run(pausing(300, out), {
      workers: 2,
      module: FLOWS,
      export: "pausing",
      args: [300],
      epochInterval: 0,
      recovery: { backend: fsBackend(dir), create: true },
    });
    assertEquals(summary.status, "eof");
    assertEquals(out.sort(), ["a", "b", "c", "d"]);
    // A few epochs around the items, not one per idle turn for 300 ms.
    assert(summary.epoch < 12, `${summary.epoch} epochs`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pre-aggregated count stopped on 2 workers resumes on 1 (same snapshots)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const reference: [string, number][] = [];
    await run(pausedCount(2000, reference));
    const out: [string, number][] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 120);
    const first = await run(pausedCount(2000, out), {
      workers: 2,
      module: FLOWS,
      export: "pausedCount",
      args: [2000],
      epochInterval: 10,
      recovery: { backend: fsBackend(dir), create: true },
      signal: stop.signal,
    }).finally(() => clearTimeout(timer));
    assertEquals([first.status, out], ["stopped", []]);
    const second = await run(pausedCount(2000, out), {
      recovery: { backend: fsBackend(dir) },
    });
    assertEquals(second.status, "eof");
    assertEquals(out, reference);
    assertEquals(out.reduce((n, [, c]) => n + c, 0), 2000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recovery.classes are refused with several workers (structured clone loses them)", async () => {
  class Point {
    constructor(readonly x: number) {}
  }
  await assertRejects(
    () =>
      run(wordCount(["a"]), {
        workers: 2,
        module: FLOWS,
        export: "wordCount",
        args: [["a"]],
        recovery: {
          backend: fsBackend("/nonexistent"),
          classes: [{
            name: "Point",
            type: Point,
            toPlain: (p: Point) => p.x,
            fromPlain: (x: number) => new Point(x),
          }],
        },
      }),
    RangeError,
    "recovery.classes cannot be used with workers: 2: snapshots cross threads by structured " +
      "clone, which loses their classes; run on 1 worker, or store plain values",
  );
});

Deno.test("importing weir installs no message handler on the main thread", () => {
  // worker_main.ts's top level (a worker's onmessage) must run only in a worker.
  assertEquals((globalThis as { onmessage?: unknown }).onmessage ?? null, null);
});

Deno.test("workers > 1: an exactly-once sink (EpochCommitter) is refused when run starts", async () => {
  const { Dataflow } = await import("../../mod.ts");
  const { TestingSource } = await import("../../src/testing/mod.ts");
  let asked = false;
  const committer = {
    build: () => ({ writeBatch() {} }),
    confirmedEpoch: () => {
      asked = true;
      return Promise.resolve(0);
    },
    commitEpoch: () => Promise.resolve(),
  };
  const flow = new Dataflow("eo_on_workers");
  flow.input("inp", new TestingSource([1, 2])).output("out", committer);
  const err = await assertRejects(
    () => run(flow, { workers: 2, module: FLOWS.href }),
    RangeError,
    "An exactly-once sink (EpochCommitter) cannot run on 2 workers yet",
  );
  assertStringIncludes(err.message, '"eo_on_workers.out"');
  assertEquals(asked, false);
});

for (const option of ["onProgress", "metrics", "tracer"] as const) {
  Deno.test(`workers > 1: ${option} is refused when run starts`, async () => {
    const { Dataflow } = await import("../../mod.ts");
    const { TestingSink, TestingSource } = await import("../../src/testing/mod.ts");
    const flow = new Dataflow("observed_on_workers");
    flow.input("inp", new TestingSource([1, 2])).output("out", new TestingSink([]));
    const value = option === "onProgress"
      ? () => {}
      : option === "metrics"
      ? { port: 0 }
      : { startSpan: () => ({ setAttribute() {}, end() {} }) };
    await assertRejects(
      () => run(flow, { workers: 2, module: FLOWS.href, [option]: value }),
      RangeError,
      `onProgress/metrics/tracer are not supported with workers: 2 yet (got ${option})`,
    );
  });
}
