/**
 * `KafkaSink`: writes `[key, value]` items to a Kafka topic, at-least-once or exactly-once.
 *
 * @module
 */
import type { DynamicSink, EpochCommitter, StatelessSinkPartition } from "../../src/io/outputs.ts";
import {
  type KafkaClient,
  kafkajsClient,
  type KafkajsClientOptions,
  type KafkaProducer,
  type KafkaRecord,
  type KafkaTransaction,
  type KafkaTransactionalProducer,
} from "./client.ts";

/** Options of {@linkcode KafkaSink}. */
export interface KafkaSinkOptions extends KafkajsClientOptions {
  /**
   * `false` (default): at-least-once — each batch is sent and acknowledged before the epoch
   * ends. `true`: exactly-once — one transaction per epoch, committed after weir's store
   * committed the epoch; needs `transactionalId` and a run with recovery (readers must read
   * `read_committed`).
   */
  readonly exactlyOnce?: boolean;
  /**
   * The transactional id of the exactly-once producer: stable across restarts of the flow
   * and unique to this sink (a restarted run fences the previous one with it).
   */
  readonly transactionalId?: string;
  /**
   * The consumer group under which the exactly-once sink records the last epoch it
   * committed, as the committed offset of partition 0 of `topic` (default
   * `weir-epochs.<transactionalId>`). Nothing consumes with it.
   */
  readonly epochGroupId?: string;
  /** The client to use (default: kafkajs on `brokers`, with these options). */
  readonly client?: KafkaClient;
}

/** What a {@linkcode KafkaSink} writes: `[key, value]`, the key becoming the record's key. */
export type KafkaSinkItem = readonly [key: string | null, value: Uint8Array | string];

/**
 * Writes `[key, value]` items to a Kafka topic, like Bytewax's `KafkaSink`: the key becomes
 * the record's key (Kafka's partitioner then picks the partition), the value its value.
 *
 * - At-least-once (default): each batch of an activation is sent with an idempotent producer
 *   (`acks: all`) and acknowledged before the epoch ends; records of an epoch a crash
 *   interrupted are written again by the resumed run.
 * - Exactly-once (`{ exactlyOnce: true, transactionalId }`, with recovery): every epoch's
 *   output is one Kafka transaction, which also records the epoch number (see
 *   {@linkcode EpochCommitter}); it commits only after weir's store committed the epoch, and a
 *   resumed run aborts an uncommitted one and redoes that epoch. Consumers that read
 *   `read_committed` see every record once.
 *
 * @example Exactly-once: a run resumed from its store adds only what is new
 * ```ts
 * import { map } from "rxjs";
 * import { Dataflow, run } from "@weir/weir";
 * import { KafkaSink, type KafkaMessage, KafkaSource } from "@weir/weir/connectors/kafka";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { Kafka, logLevel } from "kafkajs";
 * import { assertEquals } from "@std/assert";
 *
 * // A broker, e.g. from `deno task kafka` (`deno task test` sets this variable).
 * const brokers = Deno.env.get("WEIR_KAFKA_BROKERS")?.split(",");
 * if (brokers !== undefined) {
 *   const topic = `doc-${crypto.randomUUID()}`;
 *   const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
 *   await admin.connect();
 *   await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
 *   await admin.disconnect();
 *
 *   const dir = await Deno.makeTempDir();
 *   const recovery = { backend: fsBackend(dir), create: true };
 *   const items = [["a", "1"], ["b", "2"], TestingSource.EOF(), ["c", "3"]] as const;
 *   const flow = new Dataflow("eos_doc");
 *   flow.input("in", new TestingSource(items))
 *     .output("out", new KafkaSink(brokers, topic, {
 *       exactlyOnce: true,
 *       transactionalId: `eos-doc-${topic}`,
 *     }));
 *   await run(flow, { recovery }); // to the EOF marker
 *   await run(flow, { recovery }); // resumes after it
 *
 *   const seen: string[] = [];
 *   const read = new Dataflow("read");
 *   read.input("in", new KafkaSource(brokers, [topic], { tail: false }))
 *     .pipe(map((m: KafkaMessage) => new TextDecoder().decode(m.value!)))
 *     .output("out", new TestingSink(seen));
 *   await run(read);
 *   assertEquals(seen, ["1", "2", "3"]);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class KafkaSink implements DynamicSink<KafkaSinkItem>, EpochCommitter {
  readonly #brokers: readonly string[];
  readonly #topic: string;
  readonly #options: KafkaSinkOptions;
  readonly #exactlyOnce: boolean;
  #client: KafkaClient | undefined = undefined;
  /** The exactly-once producer, created by `confirmedEpoch` or by `build`. */
  #txnProducer: KafkaTransactionalProducer | undefined = undefined;
  #part: KafkaSinkPartition | undefined = undefined;

  /**
   * A sink writing to `topic` of the Kafka cluster at `brokers`.
   *
   * @param brokers Bootstrap addresses, e.g. `["127.0.0.1:9092"]`.
   * @param topic The topic to write (it must exist).
   * @param options See {@linkcode KafkaSinkOptions}.
   */
  constructor(brokers: readonly string[], topic: string, options: KafkaSinkOptions = {}) {
    if (!Array.isArray(brokers) || brokers.length === 0) {
      throw new TypeError(
        `KafkaSink needs at least one broker address, got ${JSON.stringify(brokers)}`,
      );
    }
    if (typeof topic !== "string" || topic === "") {
      throw new TypeError(`KafkaSink needs a topic name, got ${JSON.stringify(topic)}`);
    }
    this.#exactlyOnce = options.exactlyOnce === true;
    if (
      this.#exactlyOnce &&
      (typeof options.transactionalId !== "string" || options.transactionalId === "")
    ) {
      throw new TypeError(
        `KafkaSink with exactlyOnce needs a transactionalId (stable across restarts, unique ` +
          `to this sink), got ${JSON.stringify(options.transactionalId)}`,
      );
    }
    this.#brokers = [...brokers];
    this.#topic = topic;
    this.#options = options;
  }

  #clientOf(): KafkaClient {
    return this.#client ??= this.#options.client ?? kafkajsClient(this.#brokers, this.#options);
  }

  get #epochGroup(): string {
    return this.#options.epochGroupId ?? `weir-epochs.${this.#options.transactionalId}`;
  }

  async #checkTopic(stepId: string): Promise<void> {
    let found;
    try {
      found = await this.#clientOf().partitions([this.#topic]);
    } catch (err) {
      throw new Error(
        `Cannot reach the Kafka brokers ${this.#brokers.join(",")} to write topic ` +
          `"${this.#topic}": ${(err as Error).message ?? err}. Check that a broker runs ` +
          `there (deno task kafka starts one)`,
        { cause: err },
      );
    }
    if (found.get(this.#topic) === undefined) {
      throw new Error(
        `Topic "${this.#topic}" does not exist on the Kafka brokers ${
          this.#brokers.join(",")
        }; create it first (weir does not create topics)`,
      );
    }
    void stepId;
  }

  /** Whether this sink commits its epochs: with `exactlyOnce` only. */
  get commitsEpochs(): boolean {
    return this.#exactlyOnce;
  }

  /** Only with `exactlyOnce` (otherwise 0): see {@linkcode EpochCommitter.confirmedEpoch}. */
  async confirmedEpoch(stepId: string): Promise<number> {
    if (!this.#exactlyOnce) return 0;
    await this.#checkTopic(stepId);
    const client = this.#clientOf();
    // The new producer fences the old one first: its open transaction is aborted (or its
    // requested commit completed), so the recorded epoch below is final.
    this.#txnProducer ??= await client.transactionalProducer(this.#options.transactionalId!);
    const offsets = await client.groupOffsets(this.#epochGroup, this.#topic);
    return offsets.get(0) ?? 0;
  }

  /** Only with `exactlyOnce`: see {@linkcode EpochCommitter.commitEpoch}. */
  async commitEpoch(epoch: number): Promise<void> {
    if (!this.#exactlyOnce) return;
    const part = this.#part;
    if (part === undefined) throw new Error("The sink was not built before its first commit");
    await part.commit(this.#epochGroup, epoch);
  }

  async build(stepId: string): Promise<StatelessSinkPartition<KafkaSinkItem>> {
    if (this.#txnProducer === undefined) await this.#checkTopic(stepId);
    const client = this.#clientOf();
    const release = async () => {
      this.#part = undefined;
      this.#txnProducer = undefined;
      const own = this.#options.client === undefined ? this.#client : undefined;
      this.#client = undefined;
      await own?.close();
    };
    if (!this.#exactlyOnce) {
      return new KafkaSinkPartition(this.#topic, await client.producer(), undefined, release);
    }
    this.#txnProducer ??= await client.transactionalProducer(this.#options.transactionalId!);
    return this.#part = new KafkaSinkPartition(this.#topic, undefined, this.#txnProducer, release);
  }
}

class KafkaSinkPartition implements StatelessSinkPartition<KafkaSinkItem> {
  private txn: KafkaTransaction | undefined = undefined;

  constructor(
    private readonly topic: string,
    private readonly producer: KafkaProducer | undefined,
    private readonly txnProducer: KafkaTransactionalProducer | undefined,
    private readonly release: () => Promise<void>,
  ) {}

  async writeBatch(items: KafkaSinkItem[]): Promise<void> {
    // The items are the records: one kafkajs message object per item is the only copy.
    const records: readonly KafkaRecord[] = items;
    if (this.producer !== undefined) {
      await this.producer.send(this.topic, records);
      return;
    }
    this.txn ??= await this.txnProducer!.begin();
    await this.txn.send(this.topic, records);
  }

  /** Commits the epoch's transaction, which records `epoch` for `group`. */
  async commit(group: string, epoch: number): Promise<void> {
    const txn = this.txn ?? await this.txnProducer!.begin();
    this.txn = undefined;
    await txn.sendOffsets(group, [{ topic: this.topic, partition: 0, offset: epoch }]);
    await txn.commit();
  }

  async close(): Promise<void> {
    try {
      // A run that ends commits its last epoch first; anything still open was not committed
      // by the store and is left for the broker (or the next run) to abort.
      await (this.producer ?? this.txnProducer)!.close();
    } finally {
      await this.release();
    }
  }
}
