/**
 * Helpers of the Kafka tests: the broker under test (`WEIR_KAFKA_BROKERS`, set by
 * `deno task test`, which starts one), unique topics, and a plain kafkajs producer and
 * read_committed reader to set up and check what weir reads and writes.
 *
 * Every Kafka test runs once per {@linkcode KafkaClient} weir ships ({@linkcode CLIENTS}):
 * kafkajs (the default, no `client` option) and `@platformatic/kafka`
 * (`platformaticClient`). `WEIR_KAFKA_CLIENTS=platformatic` (a comma-separated list) runs
 * only those.
 *
 * Without `WEIR_KAFKA_BROKERS` the Kafka tests are ignored (`deno task test` printed why).
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import {
  dropTimeoutNegativeWarning,
  type KafkaClient,
  kafkajsClient,
} from "../../connectors/kafka/client.ts";
import { platformaticClient } from "../../connectors/kafka/platformatic.ts";

// The helpers' own kafkajs clients, like the connector's, keep kafkajs's timer warning quiet.
dropTimeoutNegativeWarning();

/** The broker under test, or `undefined`. */
export const BROKERS: string | undefined = Deno.env.get("WEIR_KAFKA_BROKERS") || undefined;

/**
 * The brokers as the connectors take them: `WEIR_KAFKA_BROKERS` as it is now (a test with a
 * broker of its own points the helpers at it by setting the variable).
 */
export function brokers(): string[] {
  return Deno.env.get("WEIR_KAFKA_BROKERS")!.split(",");
}

/** The Kafka clients weir ships. */
export type ClientName = "kafkajs" | "platformatic";

/** The clients the Kafka tests run with: both, or those `WEIR_KAFKA_CLIENTS` lists. */
export const CLIENTS: readonly ClientName[] = (() => {
  const all: ClientName[] = ["kafkajs", "platformatic"];
  const only = Deno.env.get("WEIR_KAFKA_CLIENTS");
  if (only === undefined || only === "") return all;
  const names = only.split(",").map((n) => n.trim());
  for (const n of names) {
    if (!all.includes(n as ClientName)) {
      throw new Error(
        `WEIR_KAFKA_CLIENTS lists "${n}", which is not a Kafka client weir ships; use ` +
          `${all.join(" or ")}, comma-separated`,
      );
    }
  }
  return names as ClientName[];
})();

/** Connection settings a test may change: other brokers, fewer retries. */
export interface ClientSettings {
  /** The brokers (default: {@linkcode brokers}). */
  readonly brokers?: string[];
  /** Retries of a failed request, with a 50 ms delay (default: the client's). */
  readonly retries?: number;
}

/** The client a test runs with; clients it makes are closed when the test ends. */
export class TestClient {
  readonly #made: KafkaClient[] = [];
  constructor(readonly name: ClientName) {}

  /** A new client of this kind, closed with the test. */
  make(settings: ClientSettings = {}): KafkaClient {
    const list = settings.brokers ?? brokers();
    const c = this.name === "kafkajs"
      ? kafkajsClient(
        list,
        settings.retries === undefined ? {} : {
          retry: { retries: settings.retries, initialRetryTime: 50 },
        },
      )
      : platformaticClient(
        list,
        settings.retries === undefined ? {} : { retries: settings.retries, retryDelay: 50 },
      );
    this.#made.push(c);
    return c;
  }

  /**
   * The options that select this client for a `KafkaSource` or `KafkaSink`: none for
   * kafkajs (the connectors' default, which makes and closes its own), a `client` for
   * `@platformatic/kafka`.
   */
  options(settings: ClientSettings = {}): {
    client?: KafkaClient;
    retry?: { retries: number; initialRetryTime: number };
  } {
    if (this.name === "kafkajs") {
      return settings.retries === undefined
        ? {}
        : { retry: { retries: settings.retries, initialRetryTime: 50 } };
    }
    return { client: this.make(settings) };
  }

  /** Closes the clients it made. */
  async close(): Promise<void> {
    await Promise.all(this.#made.splice(0).map((c) => c.close()));
  }
}

/**
 * A Deno test that needs the broker, registered once per client (`name [kafkajs]`,
 * `name [platformatic]`); the clients keep timers and sockets, so no sanitizers.
 */
export function kafkaTest(name: string, fn: (client: TestClient) => Promise<void>): void {
  for (const c of CLIENTS) {
    Deno.test({
      name: `${name} [${c}]`,
      ignore: BROKERS === undefined,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        const client = new TestClient(c);
        try {
          await fn(client);
        } finally {
          await client.close();
        }
      },
    });
  }
}

function kafka(): Kafka {
  return new Kafka({ brokers: brokers(), clientId: "weir-test", logLevel: logLevel.NOTHING });
}

/** A new topic with a unique name starting with `prefix`. */
export async function createTopic(prefix: string, partitions = 1): Promise<string> {
  const topic = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Writes `records` (`[key, value, partition?]`), in order. */
export async function produce(
  topic: string,
  records: ReadonlyArray<readonly [string | null, string, number?]>,
  headers?: Record<string, string>,
): Promise<void> {
  const p = kafka().producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    await p.send({
      topic,
      acks: -1,
      messages: records.map(([key, value, partition]) => ({ key, value, partition, headers })),
    });
  } finally {
    await p.disconnect();
  }
}

/**
 * Writes `count` records of `size` bytes (values `aborted-<i>` padded) in one transaction,
 * sent in several requests, and aborts it: more than one fetch's worth of aborted records,
 * followed by the abort marker.
 */
export async function produceAborted(topic: string, count: number, size: number): Promise<void> {
  const p = kafka().producer({
    transactionalId: `weir-test-aborted-${crypto.randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await p.connect();
  try {
    const txn = await p.transaction();
    for (let i = 0; i < count; i += 200) {
      const messages = [];
      for (let j = i; j < Math.min(i + 200, count); j++) {
        messages.push({ key: null, value: `aborted-${j}:`.padEnd(size, "x") });
      }
      await txn.send({ topic, acks: -1, messages });
    }
    await txn.abort();
  } finally {
    await p.disconnect();
  }
}

/**
 * Writes `values` to partition 0 of `topic` in a transaction it leaves open: commit it (or
 * abort it) with what it returns.
 */
export async function openTransaction(
  topic: string,
  values: readonly string[],
): Promise<{ commit(): Promise<void> }> {
  const p = kafka().producer({
    transactionalId: `weir-test-open-${crypto.randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await p.connect();
  const txn = await p.transaction();
  await txn.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition: 0 })) });
  return {
    commit: async () => {
      try {
        await txn.commit();
      } finally {
        await p.disconnect();
      }
    },
  };
}

/** A record read back. */
export interface ReadBack {
  readonly key: string | null;
  readonly value: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Every committed record of `topic` (read_committed, from the start to the end offsets it has
 * now), sorted by partition and offset.
 */
export async function readAll(topic: string): Promise<ReadBack[]> {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  const ends = new Map<number, number>();
  for (const o of await admin.fetchTopicOffsets(topic)) {
    // The high watermark; the last committed record may be followed by a commit marker.
    ends.set(o.partition, Number(o.high));
  }
  await admin.disconnect();
  const out: ReadBack[] = [];
  const pending = new Set([...ends].filter(([, h]) => h > 0).map(([p]) => p));
  if (pending.size === 0) return out;
  const c = k.consumer({ groupId: `weir-test-${crypto.randomUUID()}`, readUncommitted: false });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  let done: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const seen = (p: number, next: number) => {
    if (next >= ends.get(p)!) pending.delete(p);
    if (pending.size === 0) done();
  };
  c.on(c.events.START_BATCH_PROCESS, (e) => {
    if (e.payload.batchSize === 0) seen(e.payload.partition, Number(e.payload.lastOffset) + 1);
  });
  await c.run({
    // deno-lint-ignore require-await
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        out.push({
          key: m.key === null ? null : m.key.toString(),
          value: m.value!.toString(),
          partition: batch.partition,
          offset: Number(m.offset),
        });
      }
      seen(batch.partition, Number(batch.lastOffset()) + 1);
    },
  });
  const timer = setTimeout(() => done(), 30_000);
  await finished;
  clearTimeout(timer);
  await c.disconnect();
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** The values of `records`, sorted: compares outputs whatever their partitioning. */
export function sortedValues(records: readonly { value: string }[]): string[] {
  return records.map((r) => r.value).sort();
}
