// KafkaSource against a real broker (WEIR_KAFKA_BROKERS; `deno task test` starts one).
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { map } from "rxjs";
import { Dataflow, inspect, run } from "../../mod.ts";
import { TestingSink } from "../../src/testing/mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { type KafkaMessage, KafkaSink, KafkaSource } from "../../connectors/kafka/mod.ts";
import {
  brokers,
  createTopic,
  kafkaTest,
  openTransaction,
  produce,
  produceAborted,
  readAll,
  sortedValues,
} from "./_kafka.ts";

const dec = new TextDecoder();
const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

kafkaTest("KafkaSource → KafkaSink round trip over two topics of three partitions", async (c) => {
  const a = await createTopic("rt-a", 3);
  const b = await createTopic("rt-b", 3);
  const out = await createTopic("rt-out", 2);
  const sent: string[] = [];
  for (const [topic, n] of [[a, 90], [b, 60]] as const) {
    const recs: [string, string, number][] = [];
    for (let i = 0; i < n; i++) recs.push([`k${i % 7}`, `${topic}:${i}`, i % 3]);
    await produce(topic, recs, { h: "v" });
    sent.push(...recs.map((r) => r[1]));
  }
  const seen: KafkaMessage[] = [];
  const flow = new Dataflow("kafka_rt");
  flow.input(
    "in",
    new KafkaSource(brokers(), [a, b], { tail: false, batchSize: 16, ...c.options() }),
  )
    .pipe(
      inspect("seen", (_id, m: KafkaMessage) => void seen.push(m)),
      map((m: KafkaMessage) => [text(m.key), m.value!] as [string | null, Uint8Array]),
    )
    .output("out", new KafkaSink(brokers(), out, c.options()));
  const summary = await run(flow, { epochInterval: 0 });
  assertEquals(summary.status, "eof");
  const back = await readAll(out);
  assertEquals(sortedValues(back), [...sent].sort());
  // Messages carry where they came from, in offset order per partition.
  assertEquals(seen.length, 150);
  const first = seen.find((m) => m.topic === a && m.partition === 1 && m.offset === 0)!;
  assertEquals([text(first.key), text(first.value), text(first.headers.h as Uint8Array)], [
    "k1",
    `${a}:1`,
    "v",
  ]);
  assert(Math.abs(first.timestamp - Date.now()) < 120_000, `timestamp ${first.timestamp}`);
  for (const t of [a, b]) {
    for (let p = 0; p < 3; p++) {
      const offs = seen.filter((m) => m.topic === t && m.partition === p).map((m) => m.offset);
      assertEquals(offs, [...offs.keys()], `${t}/${p}`);
    }
  }
  // The output's keys are the input's keys.
  assertEquals(
    new Set(back.map((r) => r.key)),
    new Set(["k0", "k1", "k2", "k3", "k4", "k5", "k6"]),
  );
});

/** `topic/partition@offset=value` per message: what a read saw, in order. */
function describe(m: KafkaMessage): string {
  return `${m.partition}@${m.offset}=${text(m.value)}`;
}

kafkaTest(
  "KafkaSource resumes after the last committed offsets: 0 lost, 0 duplicated",
  async (c) => {
    const topic = await createTopic("resume", 2);
    const first: [string, string, number][] = [];
    for (let i = 0; i < 200; i++) first.push([`k${i}`, `v${i}`, i % 2]);
    await produce(topic, first);
    const dir = await Deno.makeTempDir({ prefix: "weir_kafka_resume_" });
    const recovery = { backend: fsBackend(dir), create: true };
    const out: string[] = [];
    const stop = new AbortController();
    const flow = (tail: boolean) => {
      const f = new Dataflow("kafka_resume");
      f.input("in", new KafkaSource(brokers(), [topic], { tail, batchSize: 10, ...c.options() }))
        .pipe(
          map(describe),
          inspect("stop", () => void (out.length >= 60 && stop.abort())),
        )
        .output("out", new TestingSink(out));
      return f;
    };
    const s1 = await run(flow(true), { epochInterval: 0, recovery, signal: stop.signal });
    assertEquals(s1.status, "stopped");
    const n1 = out.length;
    assert(n1 >= 60 && n1 < 200, `first run read ${n1}`);
    const more: [string, string, number][] = [];
    for (let i = 200; i < 250; i++) more.push([`k${i}`, `v${i}`, i % 2]);
    await produce(topic, more);
    const s2 = await run(flow(false), {
      epochInterval: 0,
      recovery: { backend: fsBackend(dir) },
    });
    assertEquals(s2.status, "eof");
    const expected = [...first, ...more].map(([, v, p]) => {
      const offset = Number(v.slice(1)) >> 1;
      return `${p}@${offset}=${v}`;
    });
    assertEquals([...out].sort(), expected.sort());
    await Deno.remove(dir, { recursive: true });
  },
);

kafkaTest(
  "KafkaSource with tail: false ends at the end offsets seen when it started",
  async (c) => {
    const topic = await createTopic("tail", 2);
    await produce(topic, [["a", "1", 0], ["b", "2", 1], ["c", "3", 1]]);
    const out: string[] = [];
    const flow = new Dataflow("kafka_tail");
    const src = new KafkaSource(brokers(), [topic], { tail: false, ...c.options() });
    flow.input("in", src)
      .pipe(
        map(describe),
        // Written after the partitions were built: past the end offsets, not read.
        inspect(
          "late",
          (_id, x: string) => void (x === "0@0=1" && produce(topic, [["d", "4", 0]])),
        ),
      )
      .output("out", new TestingSink(out));
    assertEquals((await run(flow, { epochInterval: 0 })).status, "eof");
    assertEquals(out.sort(), ["0@0=1", "1@0=2", "1@1=3"]);
    // An empty topic ends at once.
    const empty = await createTopic("tail-empty", 1);
    const none: string[] = [];
    const f2 = new Dataflow("kafka_tail_empty");
    f2.input("in", new KafkaSource(brokers(), [empty], { tail: false, ...c.options() }))
      .pipe(map(describe)).output("out", new TestingSink(none));
    assertEquals((await run(f2)).status, "eof");
    assertEquals(none, []);
  },
);

kafkaTest(
  "KafkaSource with tail: false ends before a transaction still open when it started",
  async (c) => {
    // The end offset is the last stable offset: records of a transaction undecided when the
    // run started are past it, even once the transaction commits during the run.
    const topic = await createTopic("tail-open", 1);
    await produce(topic, [[null, "a"]]);
    const open = await openTransaction(topic, ["b", "c"]);
    const out: string[] = [];
    let committed: Promise<void> | undefined;
    const flow = new Dataflow("kafka_tail_open");
    flow.input("in", new KafkaSource(brokers(), [topic], { tail: false, ...c.options() }))
      .pipe(
        map(describe),
        inspect("commit", (_id, x: string) => void (x === "0@0=a" && (committed = open.commit()))),
      )
      .output("out", new TestingSink(out));
    const summary = await run(flow, { epochInterval: 0, signal: AbortSignal.timeout(30_000) });
    assertEquals([summary.status, out], ["eof", ["0@0=a"]]);
    // Committed now (its markers written once a read_committed reader gets the records): a
    // later run reads them.
    await committed;
    assertEquals((await readAll(topic)).map((r) => r.value), ["a", "b", "c"]);
    const later: string[] = [];
    const f2 = new Dataflow("kafka_tail_open_later");
    f2.input("in", new KafkaSource(brokers(), [topic], { tail: false, ...c.options() }))
      .pipe(map(describe)).output("out", new TestingSink(later));
    await run(f2);
    assertEquals(later, ["0@0=a", "0@1=b", "0@2=c"]);
  },
);

kafkaTest(
  "KafkaSource starts at the latest offset, or at a group's committed offsets",
  async (c) => {
    const topic = await createTopic("start", 1);
    await produce(topic, [["a", "old"]]);
    const read = async (options: { startingOffset?: "latest"; groupId?: string }) => {
      const out: string[] = [];
      const flow = new Dataflow("kafka_start");
      flow.input(
        "in",
        new KafkaSource(brokers(), [topic], { tail: false, ...options, ...c.options() }),
      )
        .pipe(map(describe)).output("out", new TestingSink(out));
      await run(flow);
      return out;
    };
    assertEquals(await read({}), ["0@0=old"]);
    assertEquals(await read({ startingOffset: "latest" }), []);
    await produce(topic, [["b", "new"]]);
    // A group that committed offset 1 (read "old"): only "new".
    // (Committed in a transaction through the client under test: kafkajs's admin.setOffsets
    // joins the group first, which takes seconds.)
    const client = c.make();
    const producer = await client.transactionalProducer(`weir-test-${topic}`);
    const txn = await producer.begin();
    await txn.sendOffsets(`g-${topic}`, [{ topic, partition: 0, offset: 1 }]);
    await txn.commit();
    await producer.close();
    await client.close();
    assertEquals(await read({ groupId: `g-${topic}` }), ["0@1=new"]);
    // A group with no offsets falls back to startingOffset.
    assertEquals(await read({ groupId: `none-${topic}` }), ["0@0=old", "0@1=new"]);
  },
);

kafkaTest("KafkaSource names the step and the missing topic", async (c) => {
  const topic = await createTopic("present", 1);
  const flow = new Dataflow("kafka_missing");
  flow.input("in", new KafkaSource(brokers(), [topic, "no-such-topic"], c.options()))
    .output("out", new TestingSink([]));
  const err = await assertRejects(() => run(flow));
  assertEquals(
    (err as Error).message,
    `Step "kafka_missing.in": Failed to list the source's partitions: Topic "no-such-topic" ` +
      `does not exist on the Kafka brokers ${brokers().join(",")}; create it first (weir ` +
      `does not create topics)`,
  );
});

kafkaTest("KafkaSource names the step and the brokers it cannot reach", async (c) => {
  const flow = new Dataflow("kafka_unreachable");
  flow.input(
    "in",
    new KafkaSource(["127.0.0.1:1"], ["t"], c.options({ brokers: ["127.0.0.1:1"], retries: 1 })),
  ).output("out", new TestingSink([]));
  const err = await assertRejects(() => run(flow));
  assertStringIncludes(
    (err as Error).message,
    `Step "kafka_unreachable.in": Failed to list the source's partitions: Cannot reach the ` +
      `Kafka brokers 127.0.0.1:1 to list the partitions of t: `,
  );
  assertStringIncludes(
    (err as Error).message,
    "Check that a broker runs there (deno task kafka starts one)",
  );
  // The root cause, whichever client: the connection was refused.
  assertStringIncludes((err as Error).message, "connect ECONNREFUSED 127.0.0.1:1");
});

kafkaTest(
  "KafkaSource reads past a fetch's size, pausing a partition whose buffer is full",
  async (c) => {
    // 2 MB in one partition: kafkajs fetches at most 1 MB per partition at a time.
    const topic = await createTopic("big", 1);
    const n = 40_000;
    const pad = "x".repeat(40);
    for (let i = 0; i < n; i += 10_000) {
      await produce(
        topic,
        Array.from({ length: 10_000 }, (_, j) => [null, `${i + j}:${pad}`] as [null, string]),
      );
    }
    let count = 0;
    let next = 0;
    let inOrder = true;
    const flow = new Dataflow("kafka_big");
    flow.input(
      "in",
      new KafkaSource(brokers(), [topic], { tail: false, maxBuffered: 500, ...c.options() }),
    )
      .pipe(inspect("count", (_id, m: KafkaMessage) => {
        if (m.offset !== next++) inOrder = false;
        count++;
      }))
      .output("out", new TestingSink([]));
    // A source stuck after the first fetch would hang: stop it after a minute instead.
    const summary = await run(flow, { epochInterval: 100, signal: AbortSignal.timeout(60_000) });
    assertEquals([summary.status, count, inOrder], ["eof", n, true]);
  },
);

kafkaTest(
  "KafkaSource skips an aborted transaction larger than one fetch, its marker in a later one",
  async (c) => {
    // 1.5 MB of aborted records: a fetch (1 MB per partition) ends before the abort marker,
    // so a reader must skip them knowing only that their transaction was aborted.
    const topic = await createTopic("aborted", 1);
    await produce(topic, [[null, "before"]]);
    await produceAborted(topic, 1500, 1000);
    await produce(topic, [[null, "after-1"], [null, "after-2"]]);
    const out: string[] = [];
    const flow = new Dataflow("kafka_aborted");
    flow.input("in", new KafkaSource(brokers(), [topic], { tail: false, ...c.options() }))
      .pipe(map(describe))
      .output("out", new TestingSink(out));
    const summary = await run(flow, { epochInterval: 0, signal: AbortSignal.timeout(30_000) });
    // Offsets 1–1500 are the aborted records, 1501 their abort marker.
    assertEquals([summary.status, out], ["eof", [
      "0@0=before",
      "0@1502=after-1",
      "0@1503=after-2",
    ]]);
  },
);

Deno.test("KafkaSource refuses bad arguments when the flow is defined", () => {
  const cases: Array<[() => unknown, string]> = [
    [
      () => new KafkaSource([], ["t"]),
      "KafkaSource needs at least one broker address, got []",
    ],
    [
      () => new KafkaSource(["127.0.0.1:9092"], []),
      "KafkaSource needs a non-empty list of topic names, got []",
    ],
    [
      // deno-lint-ignore no-explicit-any
      () => new KafkaSource(["127.0.0.1:9092"], ["t"], { startingOffset: "middle" as any }),
      'startingOffset must be "earliest" or "latest", got "middle"',
    ],
    [
      () => new KafkaSource(["127.0.0.1:9092"], ["t"], { batchSize: 0 }),
      "batchSize must be a positive integer, got 0",
    ],
  ];
  for (const [make, message] of cases) {
    let thrown: unknown;
    try {
      make();
    } catch (err) {
      thrown = err;
    }
    assertEquals((thrown as Error | undefined)?.message, message);
  }
});

kafkaTest(
  "KafkaSource reports its position and the partitions' end offsets: the consumer lag",
  async (c) => {
    const topic = await createTopic("lag", 2);
    const recs: [string, string, number][] = [];
    for (let i = 0; i < 40; i++) recs.push([`k${i}`, `${i}`, i % 2]);
    await produce(topic, recs);
    const seen: { position?: number; end?: number }[] = [];
    const stop = new AbortController();
    let read = 0;
    const flow = new Dataflow("kafka_lag");
    flow.input("in", new KafkaSource(brokers(), [topic], { batchSize: 5, ...c.options() }))
      .pipe(inspect("count", () => void (++read === 40 && stop.abort())))
      .output("out", new TestingSink([]));
    const summary = await run(flow, {
      epochInterval: 0,
      signal: stop.signal,
      onProgress: (p) => {
        const inp = p.inputs.find((i) => i.stepId === "kafka_lag.in");
        if (inp !== undefined) seen.push({ position: inp.position, end: inp.end });
      },
    });
    assertEquals(summary.status, "stopped");
    // Tailing (no tail: false), the end is each partition's high watermark: 20 + 20.
    const last = seen.at(-1)!;
    assertEquals(last, { position: 40, end: 40 });
    assert(seen.every((s) => s.end === undefined || s.end >= (s.position ?? 0)));
    assert(seen.some((s) => s.end === 40 && (s.position ?? 0) < 40), "a lag was seen mid-run");
  },
);
