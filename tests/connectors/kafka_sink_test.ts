// KafkaSink against a real broker (WEIR_KAFKA_BROKERS; `deno task test` starts one).
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { Partitioners } from "kafkajs";
import { Dataflow, run } from "../../mod.ts";
import { TestingSource } from "../../src/testing/mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { KafkaSink, type KafkaSinkItem } from "../../connectors/kafka/mod.ts";
import { brokers, createTopic, kafkaTest, readAll } from "./_kafka.ts";

const enc = new TextEncoder();

kafkaTest("KafkaSink at-least-once writes keys and string or byte values", async (c) => {
  const topic = await createTopic("sink-alo", 3);
  const items: KafkaSinkItem[] = [["a", "1"], ["b", enc.encode("2")], [null, "3"], ["a", "4"]];
  const flow = new Dataflow("kafka_sink_alo");
  flow.input("in", new TestingSource(items)).output(
    "out",
    new KafkaSink(brokers(), topic, c.options()),
  );
  await run(flow);
  const back = await readAll(topic);
  assertEquals(back.map((r) => `${r.key}=${r.value}`).sort(), ["a=1", "a=4", "b=2", "null=3"]);
  // The key picks the partition: both records of "a" in one, in order.
  const a = back.filter((r) => r.key === "a");
  assertEquals([a[0]!.partition === a[1]!.partition, a.map((r) => r.value)], [true, ["1", "4"]]);
});

kafkaTest(
  "KafkaSink puts a key on the partition Kafka's default partitioner picks, whatever the client",
  async (c) => {
    // murmur2 of the key, made positive the Java client's way: a key written through either
    // client lands where the Java client and kafkajs put it.
    const topic = await createTopic("sink-keys", 3);
    const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
    const flow = new Dataflow("kafka_sink_keys");
    flow.input("in", new TestingSource<KafkaSinkItem>(keys.map((k) => [k, k])))
      .output("out", new KafkaSink(brokers(), topic, c.options()));
    await run(flow);
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    const expected = keys.map((key) =>
      `${key}@${partitioner({ topic, partitionMetadata, message: { key, value: key } })}`
    );
    const back = await readAll(topic);
    assertEquals(back.map((r) => `${r.key}@${r.partition}`).sort(), expected.sort());
  },
);

kafkaTest(
  "a transactional producer fences the earlier one with its id: that one's open transaction is aborted",
  async (c) => {
    const topic = await createTopic("fence", 1);
    const id = `weir-test-${topic}`;
    const client = c.make();
    const old = await client.transactionalProducer(id);
    const stale = await old.begin();
    await stale.send(topic, [[null, "stale"]]);
    // A restarted incarnation: creating it fences the old producer and aborts its transaction.
    const fresh = await client.transactionalProducer(id);
    await assertRejects(() => stale.commit());
    const txn = await fresh.begin();
    await txn.send(topic, [[null, "fresh"]]);
    await txn.commit();
    await fresh.close();
    await old.close().catch(() => {});
    assertEquals((await readAll(topic)).map((r) => r.value), ["fresh"]);
  },
);

/** KafkaSink whose commit of one epoch fails: a crash after the store's commit. */
class FailingSink extends KafkaSink {
  failAt = -1;
  override async commitEpoch(epoch: number): Promise<void> {
    if (epoch === this.failAt) throw new Error(`crash before committing epoch ${epoch}`);
    await super.commitEpoch(epoch);
  }
}

kafkaTest(
  "exactly-once: an epoch whose transaction did not commit is invisible, then redone once",
  async (c) => {
    const topic = await createTopic("sink-eos", 2);
    const dir = await Deno.makeTempDir({ prefix: "weir_kafka_sink_eos_" });
    const txn = `weir-test-${topic}`;
    const items: KafkaSinkItem[] = Array.from({ length: 8 }, (_, i) => [`k${i % 3}`, `v${i}`]);
    const flow = (sink: KafkaSink) => {
      const f = new Dataflow("kafka_sink_eos");
      f.input("in", new TestingSource(items)).output("out", sink);
      return f;
    };
    const failing = new FailingSink(brokers(), topic, {
      exactlyOnce: true,
      transactionalId: txn,
      ...c.options(),
    });
    failing.failAt = 4;
    const recovery = () => ({ backend: fsBackend(dir), create: true });
    const err = await assertRejects(() =>
      run(flow(failing), { epochInterval: 0, recovery: recovery() })
    );
    assertEquals(
      (err as Error).message,
      `Step "kafka_sink_eos.out": Failed to commit the output of epoch 4: crash before ` +
        `committing epoch 4`,
    );
    // Epochs 1–3 committed (one item each); epoch 4's record was sent but is not visible.
    assertEquals((await readAll(topic)).map((r) => r.value).sort(), ["v0", "v1", "v2"]);
    const resumed = await run(
      flow(
        new KafkaSink(brokers(), topic, {
          exactlyOnce: true,
          transactionalId: txn,
          ...c.options(),
        }),
      ),
      { epochInterval: 0, recovery: recovery() },
    );
    assertEquals([resumed.status, resumed.resumedFrom], ["eof", 3]);
    assertEquals(
      (await readAll(topic)).map((r) => r.value).sort(),
      items.map(([, v]) => v as string).sort(),
    );
    await Deno.remove(dir, { recursive: true });
  },
);

kafkaTest("exactly-once without recovery commits a transaction per epoch", async (c) => {
  const topic = await createTopic("sink-eos-norec", 1);
  const flow = new Dataflow("kafka_sink_eos_norec");
  flow.input("in", new TestingSource<KafkaSinkItem>([["a", "x"], ["b", "y"]]))
    .output(
      "out",
      new KafkaSink(brokers(), topic, {
        exactlyOnce: true,
        transactionalId: `weir-test-${topic}`,
        ...c.options(),
      }),
    );
  await run(flow, { epochInterval: 0 });
  assertEquals((await readAll(topic)).map((r) => r.value), ["x", "y"]);
});

kafkaTest("KafkaSink names the step and the missing topic", async (c) => {
  const flow = new Dataflow("kafka_sink_missing");
  flow.input("in", new TestingSource<KafkaSinkItem>([["a", "x"]]))
    .output("out", new KafkaSink(brokers(), "no-such-topic", c.options()));
  const err = await assertRejects(() => run(flow));
  assertEquals(
    (err as Error).message,
    `Step "kafka_sink_missing.out": Failed to build the sink: Topic "no-such-topic" does not ` +
      `exist on the Kafka brokers ${brokers().join(",")}; create it first (weir does not ` +
      `create topics)`,
  );
});

Deno.test("KafkaSink with exactlyOnce needs a transactionalId", () => {
  const err = assertThrows(() => new KafkaSink(["127.0.0.1:9092"], "t", { exactlyOnce: true }));
  assertEquals(
    (err as Error).message,
    "KafkaSink with exactlyOnce needs a transactionalId (stable across restarts, unique to " +
      "this sink), got undefined",
  );
});

kafkaTest(
  "at-least-once KafkaSinks resume with recovery like any sink, two in one flow",
  async (c) => {
    const one = await createTopic("sink-alo-rec-1", 1);
    const two = await createTopic("sink-alo-rec-2", 1);
    const dir = await Deno.makeTempDir({ prefix: "weir_kafka_sink_alo_" });
    const items = [["a", "1"], ["b", "2"], TestingSource.EOF(), ["c", "3"]] as const;
    const flow = new Dataflow("kafka_sink_alo_rec");
    const s = flow.input("in", new TestingSource(items));
    s.output("one", new KafkaSink(brokers(), one, c.options()));
    s.output("two", new KafkaSink(brokers(), two, c.options()));
    const recovery = { backend: fsBackend(dir), create: true };
    assertEquals((await run(flow, { epochInterval: 0, recovery })).status, "eof");
    const second = await run(flow, { epochInterval: 0, recovery });
    assertEquals(second.status, "eof");
    for (const t of [one, two]) {
      assertEquals((await readAll(t)).map((r) => r.value), ["1", "2", "3"]);
    }
    await Deno.remove(dir, { recursive: true });
  },
);
