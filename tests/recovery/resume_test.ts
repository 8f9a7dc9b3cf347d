// Resume across every kind of state: windows (event clock, tumbling and session), joins, TTL,
// timers; exactly-once file output when a run aborts between commits.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  collectWindow,
  Dataflow,
  DataflowError,
  EventClock,
  foldWindow,
  join,
  SessionWindower,
  stateful,
  statefulMap,
  type Stream,
  TumblingWindower,
} from "../../mod.ts";
import { FileSink } from "../../connectors/files.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import type { RecoveryConfig } from "../../src/recovery/config.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { TestingMarker } from "../../src/testing/testing_source.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_resume_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const recovery = (dir: string): RecoveryConfig => ({
  backend: fsBackend(`${dir}/store`),
  create: true,
});

type Ev = { user: string; t: number; v: string };
const ev = (user: string, t: number, v: string): Ev => ({ user, t, v });

/** Outputs of windowed collects: results, late items and metadata, into one list. */
function windowFlow(
  items: Array<[string, Ev] | TestingMarker>,
  windower: TumblingWindower | SessionWindower,
) {
  const out: unknown[] = [];
  const flow = new Dataflow("win");
  const { down, late, meta } = collectWindow(
    "collect",
    flow.input("inp", new TestingSource(items)) as Stream<[string, Ev]>,
    { clock: new EventClock((e: Ev) => e.t, { waitFor: 5 }), windower },
  );
  down.output("out", new TestingSink(out));
  late.output("late", new TestingSink(out));
  meta.output("meta", new TestingSink(out));
  return { flow, out };
}

function keyedEvents(items: Array<Ev | TestingMarker>): Array<[string, Ev] | TestingMarker> {
  return items.map((x) => ("user" in x ? [x.user, x] as [string, Ev] : x));
}

async function compareWithUninterrupted(
  windower: () => TumblingWindower | SessionWindower,
  events: Ev[],
  abortAt: number[],
) {
  // The uninterrupted run.
  const whole = windowFlow(keyedEvents(events), windower());
  await runMain(whole.flow, { epochInterval: 0, clock: new TestClock() });
  // The same events with ABORT markers, resumed until EOF.
  await withDir(async (dir) => {
    const items: Array<Ev | TestingMarker> = [];
    events.forEach((e, i) => {
      if (abortAt.includes(i)) items.push(TestingSource.ABORT());
      items.push(e);
    });
    const f = windowFlow(keyedEvents(items), windower());
    let runs = 0;
    for (;;) {
      runs++;
      const s = await runMain(f.flow, {
        epochInterval: 0,
        clock: new TestClock(),
        recovery: recovery(dir),
      });
      if (s.status === "eof") break;
    }
    assertEquals(runs, abortAt.length + 1);
    assertEquals(f.out, whole.out);
  });
  assert(whole.out.length > 0);
}

Deno.test("windows resume: tumbling windows with an event clock, aborted three times", async () => {
  const events = [
    ev("a", 1, "a1"),
    ev("b", 2, "b1"),
    ev("a", 4, "a2"),
    ev("a", 12, "a3"), // closes a's window 0 once the watermark passes 10
    ev("b", 3, "b-late?"),
    ev("b", 25, "b2"),
    ev("a", 2, "a-late"), // late: a's watermark is 7
    ev("a", 31, "a4"),
    ev("b", 26, "b3"),
  ];
  await compareWithUninterrupted(() => new TumblingWindower(10, 0), events, [2, 4, 7]);
});

Deno.test("windows resume: sessions merge across a resume", async () => {
  const events = [
    ev("a", 0, "a1"),
    ev("a", 20, "a2"), // a second session
    ev("a", 10, "bridge"), // merges both (gap 10)
    ev("a", 100, "a3"),
    ev("b", 5, "b1"),
    ev("a", 200, "a4"),
  ];
  await compareWithUninterrupted(() => new SessionWindower(10), events, [1, 2, 3, 5]);
});

Deno.test("join resumes with each side's state", async () => {
  await withDir(async (dir) => {
    const out: unknown[] = [];
    const flow = new Dataflow("j");
    const left = flow.input(
      "left",
      new TestingSource<[string, number]>([
        ["k", 1],
        TestingSource.ABORT(),
        ["m", 3],
      ]),
    ) as Stream<[string, number]>;
    const right = flow.input(
      "right",
      new TestingSource<[string, string]>([
        TestingSource.PAUSE(10),
        ["k", "x"],
        ["m", "y"],
      ]),
    ) as Stream<[string, string]>;
    join("join", [left, right]).output("out", new TestingSink(out));
    const opts = { epochInterval: 0, clock: new TestClock(), recovery: recovery(dir) };
    assertEquals((await runMain(flow, opts)).status, "aborted");
    assertEquals(out, []);
    assertEquals((await runMain(flow, opts)).status, "eof");
    // k's left value came from the first run, restored from its snapshot.
    assertEquals(out, [["k", [1, "x"]], ["m", [3, "y"]]]);
  });
});

Deno.test("FileSink is exactly-once when a run aborts after writing past its last commit", async () => {
  await withDir(async (dir) => {
    const lines = Array.from({ length: 15 }, (_, i) => `line ${i}`);
    const items: Array<[string, string] | TestingMarker> = [];
    lines.forEach((l, i) => {
      if (i === 5) items.push(TestingSource.PAUSE(5_000)); // an epoch ends here: a commit
      if (i === 10) items.push(TestingSource.ABORT()); // lines 5..9 written, not committed
      items.push(["k", l]);
    });
    const path = `${dir}/out.txt`;
    const flow = new Dataflow("exactly_once");
    flow.input("inp", new TestingSource(items)).output("out", new FileSink(path));
    const opts = { epochInterval: 1000, clock: new TestClock(), recovery: recovery(dir) };
    assertEquals((await runMain(flow, opts)).status, "aborted");
    // The first run wrote ten lines, but only five are covered by a commit.
    assertEquals(await Deno.readTextFile(path), lines.slice(0, 10).join("\n") + "\n");
    const second = await runMain(flow, opts);
    assertEquals(second.status, "eof");
    assert(second.resumedFrom! > 0);
    assertEquals(await Deno.readTextFile(path), lines.join("\n") + "\n");
  });
});

Deno.test("timers are re-derived from restored state: a pending notifyAt fires after the resume", async () => {
  await withDir(async (dir) => {
    const out: unknown[] = [];
    const flow = new Dataflow("timers");
    flow.input(
      "inp",
      new TestingSource<[string, number]>([
        ["a", 1],
        ["b", 2],
        TestingSource.ABORT(),
        TestingSource.PAUSE(120_000),
        ["c", 3],
      ]),
    )
      .pipe(stateful("remind", (resume: { due: number; v: number } | undefined, ctx) => {
        let state = resume;
        return {
          onItem(v: number) {
            state = { due: ctx.now() + 60_000, v };
            return [[`got ${v}`], false] as [string[], boolean];
          },
          notifyAt: () => state?.due,
          onNotify: () => [[`reminder ${state!.v}`], true] as [string[], boolean],
          snapshot: () => state!,
        };
      }))
      .output("out", new TestingSink(out));
    const clock = new TestClock({ start: 0 });
    const opts = { epochInterval: 0, clock, recovery: recovery(dir) };
    assertEquals((await runMain(flow, opts)).status, "aborted");
    assertEquals(out, [["a", "got 1"], ["b", "got 2"]]);
    out.length = 0;
    assertEquals((await runMain(flow, opts)).status, "eof");
    // During the pause the clock passes the restored timers, which fire; c's is pending at
    // EOF, which does not fire timers (as in Bytewax).
    assertEquals(out, [["a", "reminder 1"], ["b", "reminder 2"], ["c", "got 3"]]);
  });
});

Deno.test("early results keep their cadence across a resume", async () => {
  await withDir(async (dir) => {
    const early: unknown[] = [];
    const down: unknown[] = [];
    const flow = new Dataflow("early");
    const items: Array<[string, Ev] | TestingMarker> = [
      ["k", ev("k", 1, "1")],
      ["k", ev("k", 2, "2")],
      ["k", ev("k", 3, "3")],
      TestingSource.ABORT(), // one value applied since the last early result
      ["k", ev("k", 4, "4")], // the second: an early result now, not after two more
      ["k", ev("k", 5, "5")],
    ];
    const out = foldWindow(
      "sum",
      flow.input("inp", new TestingSource(items)) as Stream<[string, Ev]>,
      {
        clock: new EventClock((e: Ev) => e.t, { waitFor: 100 }),
        windower: new TumblingWindower(100, 0),
        ordered: false,
        builder: () => 0,
        folder: (acc: number, e: Ev) => acc + Number(e.v),
        merger: (a: number, b: number) => a + b,
        early: { everyItems: 2 },
      },
    );
    out.early.output("early", new TestingSink(early));
    out.down.output("down", new TestingSink(down));
    const opts = { epochInterval: 0, clock: new TestClock(), recovery: recovery(dir) };
    assertEquals((await runMain(flow, opts)).status, "aborted");
    assertEquals(early, [["k", [0, 3]]]);
    assertEquals((await runMain(flow, opts)).status, "eof");
    assertEquals(early, [["k", [0, 3]], ["k", [0, 10]]]);
    assertEquals(down, [["k", [0, 15]]]);
  });
});

Deno.test("a builder that refuses its snapshot fails the resume naming the step and key", async () => {
  await withDir(async (dir) => {
    let refuse = false;
    const flow = new Dataflow("refuse");
    flow.input("inp", new TestingSource<[string, number]>([["k", 1], TestingSource.ABORT()]))
      .pipe(stateful("keep", (resume: number | undefined) => {
        if (refuse && resume !== undefined) throw new TypeError(`bad snapshot ${resume}`);
        let last = resume;
        return {
          onItem: (v: number) => {
            last = v;
            return [[], false] as [never[], boolean];
          },
          snapshot: () => last!,
        };
      }))
      .output("out", new TestingSink([]));
    const opts = { epochInterval: 0, clock: new TestClock(), recovery: recovery(dir) };
    assertEquals((await runMain(flow, opts)).status, "aborted");
    refuse = true;
    const err = await assertRejects(() => runMain(flow, opts), DataflowError);
    assertEquals([err.stepId, err.key], ["refuse.keep", "k"]);
    assertEquals((err.cause as Error).message, "bad snapshot 1");
    assertStringIncludes(err.message, "Builder failed to restore the key's snapshot");
  });
});

Deno.test("keys and state with lone surrogates resume exactly (each key its own state)", async () => {
  await withDir(async (dir) => {
    const keys = ["\ud800", "\udc00", "\ufffd"];
    // Each value carries its key, so the state holds the string too (a state value).
    const items: Array<[string, [string, number]] | TestingMarker> = [];
    keys.forEach((k, i) => items.push([k, [k, i + 1]]));
    items.push(TestingSource.PAUSE(5_000)); // an epoch ends: the three keys are committed
    items.push(TestingSource.ABORT());
    keys.forEach((k, i) => items.push([k, [k, 10 * (i + 1)]]));
    const out: unknown[] = [];
    type S = { seen: string[]; sum: number };
    const flow = new Dataflow("surrogates");
    flow.input("inp", new TestingSource(items))
      .pipe(statefulMap("sum", (s: S | undefined, [k, v]: [string, number]) => {
        const next = { seen: [...(s?.seen ?? []), k], sum: (s?.sum ?? 0) + v };
        return [next, next] as const;
      }))
      .output("out", new TestingSink(out));
    const opts = { epochInterval: 1000, clock: new TestClock(), recovery: recovery(dir) };
    assertEquals((await runMain(flow, opts)).status, "aborted");
    const second = await runMain(flow, opts);
    assertEquals(second.status, "eof");
    assert(second.resumedFrom! > 0);
    assertEquals(out.slice(3), [
      ["\ud800", { seen: ["\ud800", "\ud800"], sum: 11 }],
      ["\udc00", { seen: ["\udc00", "\udc00"], sum: 22 }],
      ["\ufffd", { seen: ["\ufffd", "\ufffd"], sum: 33 }],
    ]);
  });
});
