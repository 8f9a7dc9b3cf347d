/**
 * The one interface through which weir's Kafka connector talks to Kafka
 * ({@linkcode KafkaClient}), and its implementation on kafkajs ({@linkcode kafkajsClient}).
 * A second client library plugs in by implementing `KafkaClient`; `KafkaSource` and
 * `KafkaSink` take one as their `client` option.
 *
 * @module
 */
import process from "node:process";
import { Kafka, logLevel as kafkajsLogLevel } from "kafkajs";
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  KafkaConfig,
  Producer,
  RetryOptions,
  Transaction,
} from "kafkajs";

/** One record read from Kafka. */
export interface KafkaMessage {
  /** The record's key (`null` without one). */
  readonly key: Uint8Array | null;
  /** The record's value (`null` for a tombstone). */
  readonly value: Uint8Array | null;
  /** The topic it was read from. */
  readonly topic: string;
  /** The topic's partition. */
  readonly partition: number;
  /** Its offset in the partition. */
  readonly offset: number;
  /** Its timestamp, epoch milliseconds. */
  readonly timestamp: number;
  /** Its headers (a header repeated under one name gives an array). */
  readonly headers: Readonly<Record<string, Uint8Array | readonly Uint8Array[] | undefined>>;
}

/**
 * A record to write: `[key, value]` (the sink's items, handed over without copying). A `null`
 * value is a tombstone.
 */
export type KafkaRecord = readonly [
  key: Uint8Array | string | null,
  value: Uint8Array | string | null,
];

/** A topic-partition and an offset. */
export interface PartitionOffset {
  /** The topic. */
  readonly topic: string;
  /** The partition id. */
  readonly partition: number;
  /** The offset (for a position: the next record to read). */
  readonly offset: number;
}

/** Receives what a {@linkcode KafkaClient.consume} subscription fetches. */
export interface ConsumeHandler {
  /**
   * Records fetched from one partition, in offset order, and `next`: the offset after the
   * last record the fetch covered (records filtered out, such as transaction markers or
   * aborted records, included), and the partition's high watermark (its end offset) when the
   * fetch reported it. Called with no records when a fetch held only such records.
   * Must not block: buffer and return.
   */
  onRecords(
    topic: string,
    partition: number,
    records: KafkaMessage[],
    next: number,
    highWatermark?: number,
  ): void;
  /** The subscription failed for good (it will fetch nothing more). */
  onError(err: unknown): void;
}

/** A running subscription. */
export interface Subscription {
  /** Stops fetching from these partitions (records already fetched may still arrive). */
  pause(topic: string, partition: number): void;
  /** Fetches from these partitions again. */
  resume(topic: string, partition: number): void;
  /** Stops and releases it. */
  close(): Promise<void>;
}

/** An at-least-once producer. */
export interface KafkaProducer {
  /** Writes `records` to `topic` and resolves once the broker acknowledged all of them. */
  send(topic: string, records: readonly KafkaRecord[]): Promise<void>;
  /** Flushes and disconnects. */
  close(): Promise<void>;
}

/** A transactional producer: one transaction at a time. */
export interface KafkaTransactionalProducer {
  /** Begins a transaction. */
  begin(): Promise<KafkaTransaction>;
  /** Disconnects (a transaction still open is aborted by the broker in time). */
  close(): Promise<void>;
}

/** An open transaction. */
export interface KafkaTransaction {
  /** Writes `records` within the transaction. */
  send(topic: string, records: readonly KafkaRecord[]): Promise<void>;
  /** Commits `offsets` for `groupId` within the transaction. */
  sendOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void>;
  /** Commits the transaction: its records become visible to read_committed readers. */
  commit(): Promise<void>;
  /** Aborts the transaction: its records are never visible to read_committed readers. */
  abort(): Promise<void>;
}

/** What weir's Kafka connector needs from a Kafka client library. */
export interface KafkaClient {
  /** Partition ids of each topic; `undefined` for a topic that does not exist. */
  partitions(topics: readonly string[]): Promise<Map<string, number[] | undefined>>;
  /** The earliest and the end (high watermark) offset of each partition of `topic`. */
  offsets(topic: string): Promise<Map<number, { low: number; high: number }>>;
  /** The offsets `groupId` committed for `topic`'s partitions (absent: none committed). */
  groupOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  /**
   * Reads the given partitions from the given offsets into `handler`, in the background,
   * read_committed. Reading continues across broker restarts (the client retries).
   */
  consume(
    from: readonly PartitionOffset[],
    handler: ConsumeHandler,
    options: { readonly label: string },
  ): Promise<Subscription>;
  /** An idempotent at-least-once producer. */
  producer(): Promise<KafkaProducer>;
  /**
   * A transactional producer. Creating it fences any earlier producer with the same
   * `transactionalId` and aborts that producer's open transaction (or waits for its commit
   * to complete, if the commit was already requested).
   */
  transactionalProducer(transactionalId: string): Promise<KafkaTransactionalProducer>;
  /** Releases the client's connections. */
  close(): Promise<void>;
}

/** How much kafkajs logs: `"nothing"` (the default), `"error"`, `"warn"`, `"info"`, `"debug"`. */
export type KafkaLogLevel = "nothing" | "error" | "warn" | "info" | "debug";

/** Options of {@linkcode kafkajsClient}. */
export interface KafkajsClientOptions {
  /** How much kafkajs logs (default `"nothing"`). */
  readonly logLevel?: KafkaLogLevel;
  /** kafkajs's client id (default `"weir"`). */
  readonly clientId?: string;
  /**
   * kafkajs's retry settings. The default retries for about a minute (15 retries, 300 ms
   * initial, growing to 10 s), so a broker restart is waited for rather than failing the run.
   */
  readonly retry?: RetryOptions;
  /** Connection timeout per attempt, ms (default 3000). */
  readonly connectionTimeout?: number;
  /** Any other kafkajs client setting (ssl, sasl…). */
  readonly kafkaConfig?: Omit<KafkaConfig, "brokers">;
}

/** The default retry settings: about a minute in all. */
export const DEFAULT_RETRY: RetryOptions = {
  retries: 15,
  initialRetryTime: 300,
  maxRetryTime: 10_000,
};

/**
 * Runs `read` again while it fails with an error kafkajs marks retriable, with the backoff of
 * `retry` (doubling from `initialRetryTime` up to `maxRetryTime`, at most `retries` more tries);
 * any other error, or the last one, is thrown as it is. kafkajs's admin does not retry some of
 * these itself: `fetchOffsets` gives up at once on "The coordinator is loading and hence can't
 * process requests for this group", which a broker answers for a while after it starts.
 */
export async function retryRetriable<T>(retry: RetryOptions, read: () => Promise<T>): Promise<T> {
  const retries = retry.retries ?? DEFAULT_RETRY.retries!;
  const max = retry.maxRetryTime ?? DEFAULT_RETRY.maxRetryTime!;
  let delay = retry.initialRetryTime ?? DEFAULT_RETRY.initialRetryTime!;
  for (let attempt = 0;; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= retries || (err as { retriable?: unknown })?.retriable !== true) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, max);
    }
  }
}

const LEVELS: Record<KafkaLogLevel, number> = {
  nothing: kafkajsLogLevel.NOTHING,
  error: kafkajsLogLevel.ERROR,
  warn: kafkajsLogLevel.WARN,
  info: kafkajsLogLevel.INFO,
  debug: kafkajsLogLevel.DEBUG,
};

let warningFiltered = false;

/**
 * kafkajs 2.2.4 schedules its request-queue check with a negative delay
 * (`throttledUntil - Date.now()` while not throttled), which the Node timers Deno provides
 * clamp to 1 ms — what kafkajs expects — but report with a `TimeoutNegativeWarning` on stderr.
 * With kafkajs's logging off, that warning alone is dropped; every other warning passes.
 */
export function dropTimeoutNegativeWarning(): void {
  if (warningFiltered) return;
  warningFiltered = true;
  const emit = process.emitWarning;
  process.emitWarning = function (warning: unknown, ...rest: unknown[]) {
    const name = typeof warning === "object" && warning !== null
      ? (warning as Error).name
      : typeof rest[0] === "string"
      ? rest[0]
      : (rest[0] as { type?: string } | undefined)?.type;
    if (name === "TimeoutNegativeWarning") return;
    // deno-lint-ignore no-explicit-any
    return (emit as any).call(process, warning, ...rest);
  } as typeof process.emitWarning;
}

/**
 * Runs `op` again while the broker answers CONCURRENT_TRANSACTIONS: the previous transaction's
 * commit is still being completed (its markers written), which Kafka's own producer retries but
 * kafkajs 2.2.4 does not for AddOffsetsToTxn. The request changed nothing, so it is safe to
 * repeat. Gives up after about 15 s.
 */
async function whileConcurrent<T>(op: () => Promise<T>): Promise<T> {
  let delay = 10;
  for (let waited = 0;; waited += delay, delay = Math.min(delay * 2, 500)) {
    try {
      return await op();
    } catch (err) {
      if (!isConcurrentTransactions(err) || waited > 15_000) throw err;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Whether `err`, or an error it wraps (kafkajs's retries do), is CONCURRENT_TRANSACTIONS. */
function isConcurrentTransactions(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    const x = e as { type?: string; originalError?: unknown; cause?: unknown };
    if (x.type === "CONCURRENT_TRANSACTIONS") return true;
    e = x.originalError ?? x.cause;
  }
  return false;
}

/** A {@linkcode KafkaClient} on kafkajs, connected to `brokers`. */
export function kafkajsClient(
  brokers: readonly string[],
  options: KafkajsClientOptions = {},
): KafkaClient {
  return new KafkajsClient(brokers, options);
}

function num(s: string): number {
  return Number(s);
}

function toMessage(
  topic: string,
  partition: number,
  m: EachBatchPayload["batch"]["messages"][number],
): KafkaMessage {
  let headers: Record<string, Uint8Array | Uint8Array[] | undefined> = NO_HEADERS;
  if (m.headers !== undefined) {
    for (const name in m.headers) {
      if (headers === NO_HEADERS) headers = {};
      const h = m.headers[name];
      headers[name] = h === undefined
        ? undefined
        : Array.isArray(h)
        ? h.map(bytes)
        : bytes(h as Uint8Array | string);
    }
  }
  return {
    key: m.key ?? null,
    value: m.value ?? null,
    topic,
    partition,
    offset: num(m.offset),
    timestamp: num(m.timestamp),
    headers,
  };
}

/** The headers of every record without any (shared, frozen: no object per record). */
const NO_HEADERS: Record<string, Uint8Array> = Object.freeze({}) as Record<string, Uint8Array>;

const encoder = new TextEncoder();
function bytes(v: Uint8Array | string): Uint8Array {
  return typeof v === "string" ? encoder.encode(v) : v;
}

// kafkajs wants Buffers; a Uint8Array view is copied into one only when needed.
// deno-lint-ignore no-explicit-any
const NodeBuffer: any = (globalThis as any).Buffer;
function toBuffer(v: Uint8Array | string | null): Uint8Array | string | null {
  if (v === null || typeof v === "string") return v;
  if (NodeBuffer !== undefined && !NodeBuffer.isBuffer(v)) {
    return NodeBuffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return v;
}

function messagesOf(records: readonly KafkaRecord[]) {
  const out = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    out[i] = { key: toBuffer(r[0]), value: toBuffer(r[1]) };
  }
  return out;
}

class KafkajsClient implements KafkaClient {
  private readonly kafka: Kafka;
  private admin: Admin | undefined = undefined;
  private adminConnecting: Promise<Admin> | undefined = undefined;

  constructor(brokers: readonly string[], private readonly options: KafkajsClientOptions) {
    if ((options.logLevel ?? "nothing") === "nothing") dropTimeoutNegativeWarning();
    this.kafka = new Kafka({
      clientId: options.clientId ?? "weir",
      connectionTimeout: options.connectionTimeout ?? 3000,
      retry: options.retry ?? DEFAULT_RETRY,
      ...options.kafkaConfig,
      brokers: [...brokers],
      logLevel: LEVELS[options.logLevel ?? "nothing"],
    });
  }

  private connectAdmin(): Promise<Admin> {
    if (this.adminConnecting === undefined) {
      const admin = this.kafka.admin();
      this.adminConnecting = admin.connect().then(() => (this.admin = admin), (err) => {
        this.adminConnecting = undefined;
        throw err;
      });
    }
    return this.adminConnecting;
  }

  async partitions(topics: readonly string[]): Promise<Map<string, number[] | undefined>> {
    const admin = await this.connectAdmin();
    const existing = new Set(await admin.listTopics());
    const out = new Map<string, number[] | undefined>();
    const present = topics.filter((t) => existing.has(t));
    for (const t of topics) out.set(t, undefined);
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present });
      for (const t of meta.topics) {
        out.set(t.name, t.partitions.map((p) => p.partitionId).sort((a, b) => a - b));
      }
    }
    return out;
  }

  async offsets(topic: string): Promise<Map<number, { low: number; high: number }>> {
    const admin = await this.connectAdmin();
    const out = new Map<number, { low: number; high: number }>();
    for (const o of await admin.fetchTopicOffsets(topic)) {
      out.set(o.partition, { low: num(o.low), high: num(o.high) });
    }
    return out;
  }

  async groupOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const admin = await this.connectAdmin();
    const res = await retryRetriable(
      this.options.retry ?? DEFAULT_RETRY,
      () => admin.fetchOffsets({ groupId, topics: [topic] }),
    );
    const out = new Map<number, number>();
    for (const t of res) {
      for (const p of t.partitions) {
        const o = num(p.offset);
        if (o >= 0) out.set(p.partition, o);
      }
    }
    return out;
  }

  async consume(
    from: readonly PartitionOffset[],
    handler: ConsumeHandler,
    options: { readonly label: string },
  ): Promise<Subscription> {
    // A group of its own per subscription: no other member to wait for after a crash, and
    // positions come from `from` (re-applied on every join: kafkajs rejoins after a broker
    // restart), never from the group.
    const consumer: Consumer = this.kafka.consumer({
      groupId: `weir-${options.label}-${crypto.randomUUID()}`,
      readUncommitted: false,
      // Short long-polls: a partition resumed after a pause is fetched again soon.
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: {
        ...(this.options.retry ?? DEFAULT_RETRY),
        restartOnFailure: () => Promise.resolve(true),
      },
    });
    const next = new Map<string, number>();
    const keyOf = (t: string, p: number) => `${p}\u0000${t}`;
    for (const f of from) next.set(keyOf(f.topic, f.partition), f.offset);
    const topics = [...new Set(from.map((f) => f.topic))];
    let closed = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const f of from) {
        consumer.seek({
          topic: f.topic,
          partition: f.partition,
          offset: String(next.get(keyOf(f.topic, f.partition))!),
        });
      }
    });
    // A fetch of only transaction markers or aborted records never reaches eachBatch.
    consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
      const { topic, partition, batchSize, lastOffset } = e.payload;
      if (batchSize !== 0) return;
      const k = keyOf(topic, partition);
      const after = num(lastOffset) + 1;
      if (after > (next.get(k) ?? 0)) {
        next.set(k, after);
        handler.onRecords(topic, partition, [], after);
      }
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!closed && e.payload.restart === false) handler.onError(e.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // deno-lint-ignore require-await
      eachBatch: async ({ batch, resolveOffset }) => {
        const { topic, partition } = batch;
        const k = keyOf(topic, partition);
        const expected = next.get(k) ?? 0;
        const msgs = batch.messages;
        const records: KafkaMessage[] = [];
        for (let i = 0; i < msgs.length; i++) {
          const m = msgs[i]!;
          // Records from before the position: a refetch after a rejoin.
          if (num(m.offset) < expected) continue;
          records.push(toMessage(topic, partition, m));
        }
        const after = num(batch.lastOffset()) + 1;
        // kafkajs fetches the next batch after the last resolved offset (nothing is
        // committed: autoCommit is off), so the batch is resolved once it is buffered.
        resolveOffset(batch.lastOffset());
        if (after <= expected) return;
        next.set(k, after);
        handler.onRecords(topic, partition, records, after, num(batch.highWatermark));
      },
    });
    return {
      pause: (topic, partition) => consumer.pause([{ topic, partitions: [partition] }]),
      resume: (topic, partition) => consumer.resume([{ topic, partitions: [partition] }]),
      close: async () => {
        closed = true;
        await consumer.disconnect();
      },
    };
  }

  async producer(): Promise<KafkaProducer> {
    const producer: Producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    return {
      send: async (topic, records) => {
        await producer.send({ topic, acks: -1, messages: messagesOf(records) });
      },
      close: () => producer.disconnect(),
    };
  }

  async transactionalProducer(transactionalId: string): Promise<KafkaTransactionalProducer> {
    const producer: Producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    // kafkajs initialises the transactional producer id on the first transaction: this
    // fences the previous incarnation and settles its open transaction before anything else.
    await (await producer.transaction()).abort();
    return {
      begin: async () => {
        const txn: Transaction = await producer.transaction();
        return {
          send: async (topic, records) => {
            const messages = messagesOf(records);
            await whileConcurrent(() => txn.send({ topic, acks: -1, messages }));
          },
          sendOffsets: async (groupId, offsets) => {
            const byTopic = new Map<string, { partition: number; offset: string }[]>();
            for (const o of offsets) {
              let l = byTopic.get(o.topic);
              if (l === undefined) byTopic.set(o.topic, l = []);
              l.push({ partition: o.partition, offset: String(o.offset) });
            }
            const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
            await whileConcurrent(() => txn.sendOffsets({ consumerGroupId: groupId, topics }));
          },
          commit: () => txn.commit(),
          abort: () => txn.abort(),
        };
      },
      close: () => producer.disconnect(),
    };
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.adminConnecting = undefined;
    await admin?.disconnect();
  }
}
