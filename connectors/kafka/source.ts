/**
 * `KafkaSource`: reads Kafka topics, one weir partition per topic-partition, with offsets kept
 * in weir's snapshots.
 *
 * @module
 */
import {
  EOF,
  type FixedPartitionedSource,
  type StatefulSourcePartition,
} from "../../src/io/inputs.ts";
import {
  type KafkaClient,
  kafkajsClient,
  type KafkajsClientOptions,
  type KafkaMessage,
  type Subscription,
} from "./client.ts";

/** Options of {@linkcode KafkaSource}. */
export interface KafkaSourceOptions extends KafkajsClientOptions {
  /**
   * Where a partition without a snapshot starts (and without a committed offset of `groupId`):
   * `"earliest"` (default) or `"latest"`.
   */
  readonly startingOffset?: "earliest" | "latest";
  /**
   * A consumer group whose committed offsets are where partitions without a snapshot start
   * (a fresh store). Only read, never written or joined: weir's snapshots are the positions.
   */
  readonly groupId?: string;
  /**
   * `true` (default): read forever. `false`: each partition ends (EOF) at the end offset it
   * had when the partition was built.
   */
  readonly tail?: boolean;
  /** At most this many records per batch handed to weir (default 1000). */
  readonly batchSize?: number;
  /** Records fetched ahead per partition before fetching from it pauses (default 10 000). */
  readonly maxBuffered?: number;
  /** The client to use (default: kafkajs on `brokers`, with these options). */
  readonly client?: KafkaClient;
}

/** How long an empty poll waits for records before it resolves empty (wall-clock ms). */
const IDLE_WAIT_MS = 50;

/**
 * Reads Kafka topics: a {@linkcode FixedPartitionedSource} with one partition per
 * topic-partition, named `topic/partition`, whose position (the next offset to read) is kept
 * in weir's snapshots, like Bytewax's `KafkaSource`.
 *
 * - A resumed run reads each partition from the offset after the last record of the last
 *   committed epoch: with a resumable sink, nothing is lost or read twice.
 * - A partition without a snapshot starts at `groupId`'s committed offset when given, else at
 *   `startingOffset` (`"earliest"` by default).
 * - `tail: false` ends each partition at the end offset seen when it was built.
 * - Records are read `read_committed` (aborted transactional records are skipped) and handed
 *   over in batches; fetching runs ahead by at most `maxBuffered` records per partition. The
 *   position only moves past records already handed to weir.
 * - A missing topic fails the run when it starts; a broker that goes away is retried
 *   (`retry`, about a minute by default) and reading continues where it was.
 *
 * Values are raw bytes ({@linkcode KafkaMessage}): deserialize them in a step.
 *
 * @example Writing records, then reading the topic to its current end
 * ```ts
 * import { map } from "rxjs";
 * import { Dataflow, run } from "@weir/weir";
 * import { KafkaSink, type KafkaMessage, KafkaSource } from "@weir/weir/connectors/kafka";
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
 *   await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
 *   await admin.disconnect();
 *
 *   const write = new Dataflow("write");
 *   write.input("in", new TestingSource<[string, string]>([["a", "1"], ["b", "2"], ["a", "3"]]))
 *     .output("out", new KafkaSink(brokers, topic));
 *   await run(write);
 *
 *   const seen: string[] = [];
 *   const read = new Dataflow("read");
 *   const decoder = new TextDecoder();
 *   read.input("in", new KafkaSource(brokers, [topic], { tail: false }))
 *     .pipe(map((m: KafkaMessage) => `${decoder.decode(m.key!)}=${decoder.decode(m.value!)}`))
 *     .output("out", new TestingSink(seen));
 *   await run(read);
 *   assertEquals(seen.sort(), ["a=1", "a=3", "b=2"]);
 * }
 * ```
 */
export class KafkaSource implements FixedPartitionedSource<KafkaMessage, number> {
  readonly #brokers: readonly string[];
  readonly #topics: readonly string[];
  readonly #options: KafkaSourceOptions;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  #client: KafkaClient | undefined = undefined;
  #reader: Reader | undefined = undefined;

  /**
   * A source reading `topics` from the Kafka cluster at `brokers`.
   *
   * @param brokers Bootstrap addresses, e.g. `["127.0.0.1:9092"]`.
   * @param topics The topics to read (at least one).
   * @param options See {@linkcode KafkaSourceOptions}.
   */
  constructor(
    brokers: readonly string[],
    topics: readonly string[],
    options: KafkaSourceOptions = {},
  ) {
    if (!Array.isArray(brokers) || brokers.length === 0) {
      throw new TypeError(
        `KafkaSource needs at least one broker address, got ${JSON.stringify(brokers)}`,
      );
    }
    if (
      !Array.isArray(topics) || topics.length === 0 ||
      topics.some((t) => typeof t !== "string" || t === "")
    ) {
      throw new TypeError(
        `KafkaSource needs a non-empty list of topic names, got ${JSON.stringify(topics)}`,
      );
    }
    const start = options.startingOffset ?? "earliest";
    if (start !== "earliest" && start !== "latest") {
      throw new RangeError(
        `startingOffset must be "earliest" or "latest", got ${JSON.stringify(start)}`,
      );
    }
    this.#batchSize = positiveInt(options.batchSize ?? 1000, "batchSize");
    this.#maxBuffered = positiveInt(options.maxBuffered ?? 10_000, "maxBuffered");
    this.#brokers = [...brokers];
    this.#topics = [...new Set(topics)];
    this.#options = options;
  }

  #clientOf(): KafkaClient {
    return this.#client ??= this.#options.client ?? kafkajsClient(this.#brokers, this.#options);
  }

  async listParts(): Promise<string[]> {
    const client = this.#clientOf();
    let found;
    try {
      found = await client.partitions(this.#topics);
    } catch (err) {
      throw new Error(
        `Cannot reach the Kafka brokers ${this.#brokers.join(",")} to list the partitions of ` +
          `${this.#topics.join(", ")}: ${(err as Error).message ?? err}. Check that a broker ` +
          `runs there (deno task kafka starts one)`,
        { cause: err },
      );
    }
    const missing = this.#topics.filter((t) => found.get(t) === undefined);
    if (missing.length > 0) {
      throw new Error(
        `Topic ${missing.map((t) => JSON.stringify(t)).join(", ")} does not exist on the ` +
          `Kafka brokers ${this.#brokers.join(",")}; create ${
            missing.length === 1 ? "it" : "them"
          } first (weir does not create topics)`,
      );
    }
    const parts: string[] = [];
    for (const t of this.#topics) for (const p of found.get(t)!) parts.push(`${t}/${p}`);
    return parts;
  }

  async buildPart(
    stepId: string,
    forPart: string,
    resumeState: number | undefined,
  ): Promise<StatefulSourcePartition<KafkaMessage, number>> {
    const slash = forPart.lastIndexOf("/");
    const topic = forPart.slice(0, slash);
    const partition = Number(forPart.slice(slash + 1));
    const reader = this.#reader ??= new Reader(
      this.#clientOf(),
      stepId,
      this.#batchSize,
      this.#maxBuffered,
      () => {
        this.#reader = undefined;
        const own = this.#options.client === undefined ? this.#client : undefined;
        this.#client = undefined;
        return own?.close();
      },
    );
    const offsets = await reader.offsetsOf(topic);
    const range = offsets.get(partition) ?? { low: 0, high: 0 };
    let position: number;
    if (resumeState !== undefined) {
      if (!Number.isSafeInteger(resumeState) || resumeState < 0) {
        throw new Error(
          `The snapshot of ${forPart} holds ${JSON.stringify(resumeState)}, not an offset`,
        );
      }
      position = resumeState;
    } else {
      const committed = this.#options.groupId === undefined
        ? undefined
        : (await reader.groupOffsetsOf(this.#options.groupId, topic)).get(partition);
      position = committed ??
        ((this.#options.startingOffset ?? "earliest") === "latest" ? range.high : range.low);
    }
    const end = this.#options.tail === false ? range.high : Number.POSITIVE_INFINITY;
    return reader.add(topic, partition, position, end);
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  return v;
}

/** One subscription shared by the partitions of a source on this worker. */
class Reader {
  private readonly parts = new Map<string, KafkaPartition>();
  private sub: Subscription | undefined = undefined;
  private starting: Promise<void> | undefined = undefined;
  private failure: unknown = undefined;
  private readonly offsetCache = new Map<
    string,
    Promise<Map<number, { low: number; high: number }>>
  >();
  private open = 0;

  constructor(
    readonly client: KafkaClient,
    readonly stepId: string,
    readonly batchSize: number,
    readonly maxBuffered: number,
    private readonly onClosed: () => void | Promise<void>,
  ) {}

  offsetsOf(topic: string) {
    let o = this.offsetCache.get(topic);
    if (o === undefined) this.offsetCache.set(topic, o = this.client.offsets(topic));
    return o;
  }

  groupOffsetsOf(groupId: string, topic: string) {
    return this.client.groupOffsets(groupId, topic);
  }

  add(topic: string, partition: number, position: number, end: number): KafkaPartition {
    const p = new KafkaPartition(this, topic, partition, position, end);
    this.parts.set(keyOf(topic, partition), p);
    this.open++;
    return p;
  }

  /** Starts the subscription once, for every partition built so far that is not done. */
  start(): Promise<void> {
    if (this.starting !== undefined) return this.starting;
    const from = [];
    for (const p of this.parts.values()) {
      if (p.position < p.end) {
        from.push({ topic: p.topic, partition: p.partition, offset: p.position });
      }
    }
    if (from.length === 0) return this.starting = Promise.resolve();
    this.starting = this.client.consume(from, {
      onRecords: (topic, partition, records, next) => {
        this.parts.get(keyOf(topic, partition))?.receive(records, next);
      },
      onError: (err) => this.fail(err),
    }, { label: this.stepId }).then((sub) => {
      this.sub = sub;
    }, (err) => {
      this.fail(err);
    });
    return this.starting;
  }

  fail(err: unknown): void {
    this.failure ??= err;
    for (const p of this.parts.values()) p.wakeUp();
  }

  checkFailure(p: KafkaPartition): void {
    if (this.failure !== undefined) {
      throw new Error(
        `Reading ${p.topic}/${p.partition} from Kafka failed: ${
          (this.failure as Error).message ?? this.failure
        }`,
        { cause: this.failure },
      );
    }
  }

  pause(p: KafkaPartition): void {
    this.sub?.pause(p.topic, p.partition);
  }

  resume(p: KafkaPartition): void {
    this.sub?.resume(p.topic, p.partition);
  }

  async closed(p: KafkaPartition): Promise<void> {
    if (this.parts.get(keyOf(p.topic, p.partition)) === p) {
      this.open--;
      // A partition at EOF stops fetching; the subscription ends with the last one.
      if (this.open > 0) {
        this.pause(p);
        return;
      }
    }
    const sub = this.sub;
    this.sub = undefined;
    await sub?.close();
    await this.onClosed();
  }
}

function keyOf(topic: string, partition: number): string {
  return `${partition}\u0000${topic}`;
}

/** One topic-partition: a buffer of fetched records, handed to weir in batches. */
class KafkaPartition implements StatefulSourcePartition<KafkaMessage, number> {
  /** Fetched records not handed to weir yet, from `head`. */
  private buf: KafkaMessage[] = [];
  private head = 0;
  /** The offset after everything fetched (transaction markers included). */
  private fetchedTo: number;
  private paused = false;
  private waiter: (() => void) | undefined = undefined;

  constructor(
    private readonly reader: Reader,
    readonly topic: string,
    readonly partition: number,
    /** The next offset to hand to weir: the snapshot. */
    public position: number,
    readonly end: number,
  ) {
    this.fetchedTo = position;
  }

  receive(records: KafkaMessage[], next: number): void {
    if (records.length > 0) {
      if (this.head === this.buf.length) {
        this.buf = records;
        this.head = 0;
      } else {
        for (let i = 0; i < records.length; i++) this.buf.push(records[i]!);
      }
    }
    if (next > this.fetchedTo) this.fetchedTo = next;
    if (!this.paused && this.buf.length - this.head >= this.reader.maxBuffered) {
      this.paused = true;
      this.reader.pause(this);
    }
    this.wakeUp();
  }

  wakeUp(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  nextBatch(): KafkaMessage[] | EOF | Promise<KafkaMessage[] | EOF> {
    this.reader.checkFailure(this);
    const taken = this.take();
    if (taken === EOF || taken.length > 0) return taken;
    // Nothing buffered: wait a little for a fetch (a settled batch wakes the scheduler).
    return this.reader.start().then(() =>
      new Promise<KafkaMessage[] | EOF>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          try {
            this.reader.checkFailure(this);
            resolve(this.take());
          } catch (err) {
            reject(err);
          }
        };
        const timer = setTimeout(done, IDLE_WAIT_MS);
        this.waiter = done;
      })
    );
  }

  private take(): KafkaMessage[] | EOF {
    const avail = this.buf.length - this.head;
    if (avail === 0) {
      this.position = this.fetchedTo > this.position ? this.fetchedTo : this.position;
      return this.position >= this.end ? EOF : [];
    }
    let n = avail < this.reader.batchSize ? avail : this.reader.batchSize;
    // With tail: false, nothing at or past the end offset.
    if (this.end !== Number.POSITIVE_INFINITY) {
      while (n > 0 && this.buf[this.head + n - 1]!.offset >= this.end) n--;
      if (n === 0) {
        this.position = this.end;
        return EOF;
      }
    }
    let batch: KafkaMessage[];
    if (this.head === 0 && n === this.buf.length) {
      batch = this.buf;
      this.buf = [];
    } else {
      batch = this.buf.slice(this.head, this.head + n);
      this.head += n;
      if (this.head === this.buf.length) {
        this.buf = [];
        this.head = 0;
      }
    }
    this.position = batch[batch.length - 1]!.offset + 1;
    if (this.paused && this.buf.length - this.head < this.reader.maxBuffered / 2) {
      this.paused = false;
      this.reader.resume(this);
    }
    return batch;
  }

  snapshot(): number {
    return this.position;
  }

  close(): Promise<void> {
    return this.reader.closed(this);
  }
}
