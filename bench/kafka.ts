/**
 * Kafka benchmark, ratios measured in one process against a broker it starts itself
 * (scripts/kafka.ts, Apache Kafka 4.4.0; needs Java and Maven): Kafka → map → Kafka through
 * weir (`KafkaSource` → `map` → `KafkaSink`) vs kafkajs alone (a consumer's `eachBatch`
 * mapping each batch and sending it with a producer), on the same pre-produced input.
 *
 *   deno task bench:kafka                 # 200K records, 3 partitions
 *   deno task bench:kafka -- 50000        # fewer
 *
 * 1. at-least-once: weir's default `KafkaSink` (idempotent producer, acks all, 1 s epochs) vs
 *    kafkajs: an idempotent producer sending each fetched batch, awaited before the next.
 * 2. exactly-once: weir's `KafkaSink({ exactlyOnce: true })` with an fs recovery store, 1 s
 *    epochs, vs kafkajs: one transaction per second (records and the consumer offsets in it).
 *
 * Both modes also run weir on `@platformatic/kafka` (`platformaticClient` as the source's and
 * the sink's `client`), in the same rounds.
 *
 * Each round writes to a fresh topic; the records in it are counted (read_committed) and must
 * be exactly N. Rounds alternate kafkajs/weir/weir on platformatic; the medians of the ratios
 * of their throughputs are printed (1.00 = as fast as kafkajs alone).
 *
 * @module
 */
import { map } from "rxjs";
import { Kafka, logLevel } from "kafkajs";
import {
  Consumer as PConsumer,
  Producer as PProducer,
  stringSerializers,
} from "@platformatic/kafka";
import { Dataflow, run } from "../mod.ts";
import { TestingSink } from "../src/testing/mod.ts";
import { fsBackend } from "../src/recovery/deno_fs.ts";
import {
  type KafkaClient,
  type KafkaMessage,
  KafkaSink,
  KafkaSource,
} from "../connectors/kafka/mod.ts";
import { platformaticClient } from "../connectors/kafka/platformatic.ts";
import { dropTimeoutNegativeWarning } from "../connectors/kafka/client.ts";
import { createTopics, missingTools, startKafka } from "../scripts/kafka.ts";

const N = Number(Deno.args.filter((a) => a !== "--")[0] ?? 200_000);
const PARTITIONS = 3;
const ROUNDS = 3;
const EPOCH_MS = 1000;
const INPUT = "bench-in";
/** Records per produce request of the kafkajs and platformatic sides. */
const BATCH = 5000;

const missing = await missingTools();
if (missing !== undefined) {
  console.log(`Cannot start a broker: ${missing}`);
  Deno.exit(1);
}
dropTimeoutNegativeWarning();
console.log("starting Kafka…");
const broker = await startKafka({ port: 0 });
const brokers = [broker.brokers];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: "bench" });
const dec = new TextDecoder();

/** The map both sides apply: the value, decoded, with a suffix, and the key as a string. */
function transform(key: Uint8Array | null, value: Uint8Array | null): [string | null, string] {
  return [key === null ? null : dec.decode(key), dec.decode(value!) + "|mapped"];
}

/** Records in `topic`, read read_committed to its end. */
async function countTopic(topic: string): Promise<number> {
  const items: unknown[] = [];
  const flow = new Dataflow("bench_count");
  flow.input("in", new KafkaSource(brokers, [topic], { tail: false }))
    .output("out", new TestingSink(items));
  await run(flow);
  return items.length;
}

let topicSeq = 0;
async function freshTopic(name: string): Promise<string> {
  const t = `bench-${name}-${++topicSeq}`;
  await createTopics(broker.brokers, [`${t}:${PARTITIONS}`]);
  return t;
}

async function produceInput(): Promise<void> {
  await createTopics(broker.brokers, [`${INPUT}:${PARTITIONS}`]);
  await kafkajsProduce(INPUT);
}

/** weir: KafkaSource → map → KafkaSink, on kafkajs (the default) or `client`. */
async function weirFlow(out: string, exactlyOnce: boolean, client?: KafkaClient): Promise<void> {
  const using = client === undefined ? {} : { client };
  const flow = new Dataflow("bench_kafka");
  const sink = exactlyOnce
    ? new KafkaSink(brokers, out, { exactlyOnce: true, transactionalId: `weir-${out}`, ...using })
    : new KafkaSink(brokers, out, using);
  flow.input("in", new KafkaSource(brokers, [INPUT], { tail: false, ...using }))
    .pipe(map((m: KafkaMessage) => transform(m.key, m.value)))
    .output("out", sink);
  if (exactlyOnce) {
    const dir = await Deno.makeTempDir({ prefix: "weir_bench_kafka_" });
    await run(flow, {
      epochInterval: EPOCH_MS,
      recovery: { backend: fsBackend(dir), create: true },
    });
    await Deno.remove(dir, { recursive: true });
  } else {
    await run(flow, { epochInterval: EPOCH_MS });
  }
}

/** kafkajs alone: consume `INPUT` from the beginning, map, produce to `out`, until N moved. */
async function rawFlow(out: string, exactlyOnce: boolean): Promise<void> {
  const groupId = `raw-${out}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  const producer = exactlyOnce
    ? kafka.producer({ transactionalId: `raw-${out}`, idempotent: true, maxInFlightRequests: 1 })
    : kafka.producer({ idempotent: true });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topics: [INPUT], fromBeginning: true });
  let moved = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  // exactly-once: records collected over an epoch, sent in one transaction with the offsets.
  let pending: { key: string | null; value: string }[] = [];
  const offsets = new Map<number, string>();
  let lastCommit = performance.now();
  const commit = async () => {
    const txn = await producer.transaction();
    for (let i = 0; i < pending.length; i += BATCH) {
      await txn.send({ topic: out, messages: pending.slice(i, i + BATCH) });
    }
    await txn.sendOffsets({
      consumerGroupId: groupId,
      topics: [{
        topic: INPUT,
        partitions: [...offsets].map(([partition, offset]) => ({ partition, offset })),
      }],
    });
    await txn.commit();
    pending = [];
    lastCommit = performance.now();
  };
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const msgs = batch.messages;
      const messages: { key: string | null; value: string }[] = new Array(msgs.length);
      for (let i = 0; i < msgs.length; i++) {
        const [key, value] = transform(msgs[i]!.key, msgs[i]!.value);
        messages[i] = { key, value };
      }
      if (exactlyOnce) {
        for (const m of messages) pending.push(m);
        offsets.set(batch.partition, String(Number(batch.lastOffset()) + 1));
        moved += msgs.length;
        if (moved >= N || performance.now() - lastCommit >= EPOCH_MS) await commit();
      } else {
        // A fetch holds up to 1 MB per partition: sent in slices, as one request of it all
        // can exceed the broker's largest accepted batch (message.max.bytes, 1 MB).
        for (let i = 0; i < messages.length; i += BATCH) {
          await producer.send({ topic: out, messages: messages.slice(i, i + BATCH), acks: -1 });
        }
        moved += msgs.length;
      }
      if (moved >= N) done();
    },
  });
  await finished;
  await consumer.disconnect();
  await producer.disconnect();
}

const record = (j: number) => ({ key: `k${j % 1000}`, value: `value-${j}-${"x".repeat(40)}` });

/** kafkajs alone: N records to `topic`, batches of 5 000, idempotent, acks all, in turn. */
async function kafkajsProduce(topic: string): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < N; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) messages.push(record(j));
    await producer.send({ topic, messages, acks: -1 });
  }
  await producer.disconnect();
}

/** @platformatic/kafka alone: the same. */
async function platformaticProduce(topic: string): Promise<void> {
  const producer = new PProducer({
    clientId: "bench",
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
  });
  for (let i = 0; i < N; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) messages.push({ topic, ...record(j) });
    await producer.send({ messages });
  }
  await producer.close();
}

/** kafkajs alone: reads `topic` from the beginning (a fresh group) until N records came. */
async function kafkajsConsume(topic: string): Promise<number> {
  const consumer = kafka.consumer({ groupId: `c-${crypto.randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let n = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    autoCommit: false,
    // deno-lint-ignore require-await
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (m.value !== null) n++;
      if (n >= N) done();
    },
  });
  await finished;
  await consumer.disconnect();
  return n;
}

/** @platformatic/kafka alone: the same, with its message stream. */
async function platformaticConsume(topic: string): Promise<number> {
  const consumer = new PConsumer({
    groupId: `c-${crypto.randomUUID()}`,
    clientId: "bench",
    bootstrapBrokers: brokers,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: "earliest",
    autocommit: false,
    maxWaitTime: 100,
  });
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("data", (m: { value: unknown }) => {
      if (m.value !== undefined && m.value !== null) n++;
      if (n === N) resolve();
    });
  });
  await stream.close();
  await consumer.close();
  return n;
}

/** Records in `topic` (no transactions: the sum of its partitions' end offsets). */
async function endOffsets(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
}

async function timed(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows: string[][] = [];
try {
  await produceInput();
  console.log(`${N} records in ${INPUT} (${PARTITIONS} partitions)`);
  console.log("clients alone (produce, then consume, N records each):");
  const ratios = { produce: [] as number[], consume: [] as number[] };
  const rates = { produce: [[], []] as number[][], consume: [[], []] as number[][] };
  for (let r = 0; r < ROUNDS; r++) {
    const line: string[] = [];
    for (
      const [i, produce, consume] of [
        [0, kafkajsProduce, kafkajsConsume],
        [1, platformaticProduce, platformaticConsume],
      ] as const
    ) {
      const topic = await freshTopic(i === 0 ? "kafkajs" : "platformatic");
      const tp = await timed(() => produce(topic));
      const written = await endOffsets(topic);
      if (written !== N) throw new Error(`client ${i}: produced ${written} records, expected ${N}`);
      let read = 0;
      const tc = await timed(async () => void (read = await consume(topic)));
      if (read !== N) throw new Error(`client ${i}: consumed ${read} records, expected ${N}`);
      rates.produce[i]!.push(N / tp);
      rates.consume[i]!.push(N / tc);
      line.push(`produce ${(N / tp).toFixed(1)}K/s consume ${(N / tc).toFixed(1)}K/s`);
    }
    ratios.produce.push(rates.produce[1]!.at(-1)! / rates.produce[0]!.at(-1)!);
    ratios.consume.push(rates.consume[1]!.at(-1)! / rates.consume[0]!.at(-1)!);
    console.log(`  round ${r + 1}: kafkajs ${line[0]}; platformatic ${line[1]}`);
  }
  const clientRows = (["produce", "consume"] as const).map((op) => [
    op,
    `${median(rates[op][0]!).toFixed(0)}K/s`,
    `${median(rates[op][1]!).toFixed(0)}K/s`,
    median(ratios[op]).toFixed(2),
  ]);
  for (const [name, eos] of [["at-least-once", false], ["exactly-once", true]] as const) {
    console.log(`${name}:`);
    // weir/kafkajs alone, weir on platformatic/kafkajs alone, weir on platformatic/weir.
    const ratios: [number[], number[], number[]] = [[], [], []];
    const rates: [number[], number[], number[]] = [[], [], []];
    for (let r = 0; r < ROUNDS; r++) {
      const rawOut = await freshTopic(`raw-${eos ? "eos" : "alo"}`);
      const tRaw = await timed(() => rawFlow(rawOut, eos));
      const weirOut = await freshTopic(`weir-${eos ? "eos" : "alo"}`);
      const tWeir = await timed(() => weirFlow(weirOut, eos));
      const platOut = await freshTopic(`weir-plat-${eos ? "eos" : "alo"}`);
      const client = platformaticClient(brokers);
      const tPlat = await timed(() => weirFlow(platOut, eos, client));
      await client.close();
      const outs = [[rawOut, "kafkajs"], [weirOut, "weir"], [platOut, "weir on platformatic"]];
      for (const [who, t] of outs) {
        const n = await countTopic(who!);
        if (n !== N) throw new Error(`${name}: ${t} wrote ${n} records, expected ${N}`);
      }
      rates[0].push(N / tRaw);
      rates[1].push(N / tWeir);
      rates[2].push(N / tPlat);
      ratios[0].push(tRaw / tWeir);
      ratios[1].push(tRaw / tPlat);
      ratios[2].push(tWeir / tPlat);
      console.log(
        `  round ${r + 1}: kafkajs ${(N / tRaw).toFixed(1)}K rec/s, weir ` +
          `${(N / tWeir).toFixed(1)}K rec/s, weir on platformatic ${(N / tPlat).toFixed(1)}K ` +
          `rec/s, ratios ${(tRaw / tWeir).toFixed(2)} ${(tRaw / tPlat).toFixed(2)} ` +
          `${(tWeir / tPlat).toFixed(2)}`,
      );
    }
    rows.push([
      name,
      `${median(rates[0]).toFixed(0)}K/s`,
      `${median(rates[1]).toFixed(0)}K/s`,
      `${median(rates[2]).toFixed(0)}K/s`,
      median(ratios[0]).toFixed(2),
      median(ratios[1]).toFixed(2),
      median(ratios[2]).toFixed(2),
    ]);
  }
  console.log(
    `\nKafka → map → Kafka, ${N} records, ${PARTITIONS} partitions (median of ${ROUNDS} rounds)`,
  );
  console.log(
    "| mode | kafkajs alone | weir | weir on platformatic | weir/kafkajs | " +
      "weir on platformatic/kafkajs | weir on platformatic/weir |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log(`\nClients alone, ${N} records (median of ${ROUNDS} rounds)`);
  console.log("| operation | kafkajs | @platformatic/kafka | platformatic/kafkajs |");
  console.log("| --- | --- | --- | --- |");
  for (const row of clientRows) console.log(`| ${row.join(" | ")} |`);
} finally {
  await broker.stop();
}
Deno.exit(0);
