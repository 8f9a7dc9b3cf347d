// The store side of "two committers" (a sink that commits each epoch after the store, like the
// exactly-once KafkaSink): loading up to an earlier epoch, keeping the newest epoch out of
// folding, and the run's resume from the epoch both committers agree on. The sink here is an
// in-memory EpochCommitter; tests/connectors/kafka_exactly_once_test.ts runs the real one.
import { assertEquals, assertRejects } from "@std/assert";
import { Dataflow, type DynamicSink, type EpochCommitter, run, statefulMap } from "../../mod.ts";
import { RecoveryStore } from "../../src/recovery/store.ts";
import { segmentName } from "../../src/recovery/manifest.ts";
import { TestingSource } from "../../src/testing/mod.ts";
import { storeTest, type TestStore } from "./_stores.ts";

async function commitEpochs(store: RecoveryStore, from: number, to: number, tag = "") {
  for (let e = from; e <= to; e++) {
    const seg = store.beginEpoch();
    seg.step("state", "s");
    seg.put("k", `${tag}${e}`);
    seg.put(`only${e}`, e);
    await store.commit(e, seg, e);
  }
}

async function open(s: TestStore, backupInterval = 1e12): Promise<RecoveryStore> {
  return await RecoveryStore.open(s.config({ backupInterval }), "flow", 0);
}

storeTest(
  "loading up to an earlier epoch drops the later ones; the next commit redoes them",
  async (s) => {
    const store = await open(s);
    await store.load();
    await commitEpochs(store, 1, 3);
    await store.close();

    const again = await open(s);
    assertEquals(await again.newestEpoch(), 3);
    const state = await again.load({ upTo: 2 });
    assertEquals(again.lastEpoch, 2);
    assertEquals(
      state.get("state:s"),
      new Map<string, unknown>([["k", "2"], ["only1", 1], ["only2", 2]]),
    );
    assertEquals((await s.segmentNames()).sort(), [
      segmentName("delta", 1),
      segmentName("delta", 2),
    ]);
    await commitEpochs(again, 3, 4, "redo");
    await again.close();

    const third = await open(s);
    const redone = await third.load();
    assertEquals(third.lastEpoch, 4);
    assertEquals(redone.get("state:s")!.get("k"), "redo4");
    assertEquals(redone.get("state:s")!.get("only3"), 3);
    await third.close();
  },
);

storeTest(
  "keepNewestEpoch keeps the newest epoch out of folding, so the one before stays loadable",
  async (s) => {
    // Folding is amortised (by sizes, at most 32 deltas): commit until it has run a few times.
    const bases = async () =>
      (await s.segmentNames()).filter((n) => n.startsWith("base-")).map((n) => Number(n.slice(5)));
    const held = await open(s, 0);
    held.keepNewestEpoch = true;
    await held.load();
    for (let e = 1; e <= 40; e++) {
      await commitEpochs(held, e, e);
      await held.flush();
      // The newest epoch is never inside a base.
      assertEquals((await bases()).filter((b) => b >= e), [], `after epoch ${e}`);
    }
    assertEquals((await bases()).length, 1);
    await held.close();
    const again = await open(s, 0);
    const state = await again.load({ upTo: 39 });
    assertEquals(state.get("state:s")!.get("k"), "39");
    await again.close();

    // Without it the newest epoch gets folded too, and the epoch before it is then gone.
    const other = await open(s, 0);
    await other.load();
    let e = 40;
    while (!(await bases()).includes(e)) {
      e++;
      await commitEpochs(other, e, e);
      await other.flush();
    }
    await other.close();
    const last = await open(s, 0);
    const err = await assertRejects(() => last.load({ upTo: e - 1 }));
    assertEquals(
      (err as Error).message,
      `Cannot resume the recovery store in ${s.backend().description} from epoch ${e - 1}: ` +
        `epochs up to ${e} were folded into one base (${segmentName("base", e)}), so epoch ` +
        `${e - 1}'s state is gone`,
    );
    await last.close();
  },
);

/**
 * An in-memory two-phase sink: writes are pending until `commitEpoch`; a new run's
 * `confirmedEpoch` drops pending writes (as fencing aborts a transaction). `crashAt` makes
 * `commitEpoch` fail at that epoch: a crash after the store's commit, before the sink's.
 */
class TwoPhaseSink implements DynamicSink<[string, number]>, EpochCommitter {
  committed: string[] = [];
  pending: string[] = [];
  epoch = 0;
  crashAt = -1;
  commits: number[] = [];

  confirmedEpoch(): Promise<number> {
    this.pending = [];
    return Promise.resolve(this.epoch);
  }

  commitEpoch(epoch: number): Promise<void> {
    if (epoch === this.crashAt) return Promise.reject(new Error(`crash at ${epoch}`));
    this.committed.push(...this.pending);
    this.pending = [];
    this.epoch = epoch;
    this.commits.push(epoch);
    return Promise.resolve();
  }

  build() {
    return {
      writeBatch: (items: [string, number][]) =>
        void this.pending.push(...items.map(([k, v]) => `${k}=${v}`)),
    };
  }
}

function sumFlow(sink: TwoPhaseSink) {
  const items: [string, number][] = [];
  for (let i = 1; i <= 12; i++) items.push([i % 2 ? "odd" : "even", i]);
  const flow = new Dataflow("two_phase");
  flow.input("in", new TestingSource(items))
    .pipe(statefulMap("sum", (s: number | undefined, v: number) => [(s ?? 0) + v, (s ?? 0) + v]))
    .output("out", sink);
  return flow;
}

storeTest(
  "a crash between the store's commit and the sink's resumes from the epoch before: nothing lost or repeated",
  async (s) => {
    const reference = new TwoPhaseSink();
    await run(sumFlow(reference), { epochInterval: 0 });

    const sink = new TwoPhaseSink();
    sink.crashAt = 5;
    const err = await assertRejects(() =>
      run(sumFlow(sink), { epochInterval: 0, recovery: s.config() })
    );
    assertEquals(
      (err as Error).message,
      `Step "two_phase.out": Failed to commit the output of epoch 5: crash at 5`,
    );
    // The store committed epoch 5; the sink did not.
    const peek = await RecoveryStore.open(s.config(), "two_phase", 0);
    assertEquals([sink.epoch, await peek.newestEpoch()], [4, 5]);
    await peek.close();
    sink.crashAt = -1;
    const resumed = await run(sumFlow(sink), { epochInterval: 0, recovery: s.config() });
    assertEquals([resumed.status, resumed.resumedFrom], ["eof", 4]);
    assertEquals(sink.committed, reference.committed);
    assertEquals(sink.commits.slice(0, 6), [1, 2, 3, 4, 5, 6]);
  },
);

storeTest("a sink and a store more than one epoch apart are refused", async (s) => {
  const sink = new TwoPhaseSink();
  await run(sumFlow(sink), { epochInterval: 0, recovery: s.config() });
  const fresh = new TwoPhaseSink(); // its commits were lost (a new transactional id)
  const err = await assertRejects(() => run(sumFlow(fresh), { recovery: s.config() }));
  assertEquals(
    (err as Error).message,
    `Flow "two_phase": the sink of step "two_phase.out" committed epoch 0 last, but the ` +
      `recovery store in ${s.backend().description} ends at epoch ${sink.epoch}; they may ` +
      `differ by one epoch at most. One of them was reset or replaced: start both afresh (a ` +
      `new store and a new transactional id), or restore the matching pair`,
  );
});

Deno.test("a flow with two sinks that commit their epochs themselves is refused", async () => {
  const flow = new Dataflow("two_sinks");
  const s = flow.input("in", new TestingSource<[string, number]>([["a", 1]]));
  s.output("one", new TwoPhaseSink());
  s.output("two", new TwoPhaseSink());
  const err = await assertRejects(() => run(flow));
  assertEquals(
    (err as Error).message,
    `A flow can have one sink that commits its epochs itself (exactly-once Kafka), but ` +
      `"two_sinks.one" and "two_sinks.two" both do: a crash between their commits could not be resumed exactly ` +
      `once. Write one of them at least once`,
  );
});

Deno.test("a sink with commitsEpochs: false is an ordinary sink", async () => {
  const flow = new Dataflow("ordinary");
  const s = flow.input("in", new TestingSource<[string, number]>([["a", 1]]));
  const one = Object.assign(new TwoPhaseSink(), { commitsEpochs: false });
  const two = Object.assign(new TwoPhaseSink(), { commitsEpochs: false });
  s.output("one", one);
  s.output("two", two);
  await run(flow);
  // Never asked to commit: its writes stay where the sink put them.
  assertEquals([one.pending, one.commits, two.pending], [["a=1"], [], ["a=1"]]);
});
