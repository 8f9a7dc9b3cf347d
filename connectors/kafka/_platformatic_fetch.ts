/**
 * The consuming side of {@linkcode platformaticClient}: `FetchLoop`, weir's own fetch loop on
 * the library's raw `Consumer.fetch` (fixed partitions from given offsets, no group,
 * read_committed, aborted batches skipped as Kafka's Java consumer does, per-partition pause),
 * and the error helpers both sides share.
 *
 * @module
 */
import { type Consumer, FetchIsolationLevels } from "@platformatic/kafka";
import type { ConsumeHandler, KafkaMessage, PartitionOffset, Subscription } from "./client.ts";
/** The headers of every record without any (shared, frozen: no object per record). */
const NO_HEADERS: Record<string, Uint8Array> = Object.freeze({}) as Record<string, Uint8Array>;
const headerDecoder = new TextDecoder();

/** Kafka's control record type of an abort marker. */
const ABORT_MARKER = 0;
const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
/** Error code of a fetch from an offset the partition no longer (or does not yet) hold. */
const OFFSET_OUT_OF_RANGE = 1;

type FetchResponse = Awaited<ReturnType<Consumer["fetch"]>>;
type Batch = NonNullable<FetchResponse["responses"][number]["partitions"][number]["records"]>[
  number
];
type FetchedPartition = FetchResponse["responses"][number]["partitions"][number];

/**
 * The library's error as one line: its message and the last error each `MultipleErrors` or
 * `cause` wraps, down to the root (e.g. "Listing topics failed: metadata failed 2 times:
 * Cannot connect to any broker: Connection to 127.0.0.1:1 failed: connect ECONNREFUSED
 * 127.0.0.1:1").
 */
export function explain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 8; depth++) {
    const x = e as { message?: string; errors?: unknown[]; cause?: unknown };
    const m = (typeof x === "object" ? x.message ?? "" : String(x)).replace(/\.+$/, "");
    if (m !== "" && parts[parts.length - 1] !== m) parts.push(m);
    if (typeof x !== "object") break;
    e = Array.isArray(x.errors) && x.errors.length > 0 ? x.errors[x.errors.length - 1] : x.cause;
  }
  return parts.join(": ");
}

/** Runs `op`, rethrowing a failure with {@linkcode explain}'s message (the original as cause). */
export async function explained<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new Error(explain(err), { cause: err });
  }
}

/** Whether `err` (or one it wraps) is a protocol error the broker says not to retry. */
export function isFatal(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 6; depth++) {
    const x = e as { code?: string; canRetry?: boolean; errors?: unknown[]; cause?: unknown };
    if (x.code === "PLT_KFK_PROTOCOL") return x.canRetry === false;
    if (Array.isArray(x.errors) && x.errors.length > 0) e = x.errors[x.errors.length - 1];
    else e = x.cause;
  }
  return false;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to fetch. */
  offset: number;
  paused: boolean;
}

/**
 * Fetches a fixed set of partitions in a loop, one Fetch request per leader at a time,
 * read_committed, from offsets it keeps itself (no group: nothing to rebalance after a
 * crash), and hands each partition's records to the handler with the offset after the last
 * batch the fetch returned (control batches and aborted records included).
 */
export class FetchLoop implements Subscription {
  private readonly parts = new Map<string, PartitionState>();
  private closed = false;
  private wake: (() => void) | undefined = undefined;
  private running: Promise<void> | undefined = undefined;
  private leaderless = 0;

  constructor(
    private readonly consumer: Consumer,
    from: readonly PartitionOffset[],
    private readonly handler: ConsumeHandler,
  ) {
    for (const f of from) {
      this.parts.set(keyOf(f.topic, f.partition), {
        topic: f.topic,
        partition: f.partition,
        offset: f.offset,
        paused: false,
      });
    }
  }

  /** Connects (the topics' metadata: fails if the brokers cannot be reached), then loops. */
  async start(topics: string[]): Promise<void> {
    await this.consumer.metadata({ topics });
    this.running = this.loop();
  }

  pause(topic: string, partition: number): void {
    const p = this.parts.get(keyOf(topic, partition));
    if (p !== undefined) p.paused = true;
  }

  resume(topic: string, partition: number): void {
    const p = this.parts.get(keyOf(topic, partition));
    if (p !== undefined && p.paused) {
      p.paused = false;
      this.wakeUp();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp();
    // Closing the consumer first ends a fetch the library is retrying (a broker away) at
    // once, rather than after its retries.
    await this.consumer.close(true);
    await this.running;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      // The partitions to fetch, by leader.
      let byNode: Map<number, { topicId: string; parts: PartitionState[] }[]>;
      try {
        byNode = await this.requests();
      } catch (err) {
        if (await this.failed(err, ++failures)) return;
        continue;
      }
      if (byNode.size === 0) {
        if (this.leaderless > 0) {
          // No leader known for the partitions to read (an election, a broker restarting):
          // ask again for fresh metadata shortly.
          if (await this.failed(undefined, ++failures)) return;
        } else {
          // Every partition paused: wait for a resume (or a close).
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
        continue;
      }
      try {
        await Promise.all([...byNode].map(([node, topics]) => this.fetchFrom(node, topics)));
        failures = 0;
      } catch (err) {
        if (this.closed) return;
        if (await this.failed(err, ++failures)) return;
      }
    }
  }

  /**
   * After a failed fetch (the library already retried it): a broker away or restarting is
   * waited for, like kafkajs's consumer restarts; an error the broker says is final ends
   * the subscription. Returns whether it ended.
   */
  private async failed(err: unknown, failures: number): Promise<boolean> {
    if (this.closed) return true;
    if (err !== undefined && isFatal(err)) {
      this.closed = true;
      this.handler.onError(new Error(explain(err), { cause: err }));
      return true;
    }
    this.consumer.clearMetadata();
    await this.sleep(Math.min(300 * 2 ** Math.min(failures, 6), 10_000));
    return this.closed;
  }

  /** The partitions to fetch by leader; `leaderless` counts those without a leader now. */
  private async requests(): Promise<Map<number, { topicId: string; parts: PartitionState[] }[]>> {
    const meta = await this.consumer.metadata({ topics: this.consumer.topics.current });
    const byNode = new Map<number, { topicId: string; parts: PartitionState[] }[]>();
    this.leaderless = 0;
    for (const p of this.parts.values()) {
      if (p.paused) continue;
      const t = meta.topics.get(p.topic);
      const leader = t?.partitions[p.partition]?.leader ?? -1;
      if (t === undefined || leader < 0 || !meta.brokers.has(leader)) {
        this.leaderless++;
        continue;
      }
      let list = byNode.get(leader);
      if (list === undefined) byNode.set(leader, list = []);
      let entry = list.find((e) => e.topicId === t.id);
      if (entry === undefined) list.push(entry = { topicId: t.id, parts: [] });
      entry.parts.push(p);
    }
    return byNode;
  }

  private async fetchFrom(
    node: number,
    topics: { topicId: string; parts: PartitionState[] }[],
  ): Promise<void> {
    const requested = new Map<string, Map<number, PartitionState>>();
    const request = topics.map(({ topicId, parts }) => {
      const m = new Map<number, PartitionState>();
      requested.set(topicId, m);
      return {
        topicId,
        partitions: parts.map((p) => {
          m.set(p.partition, p);
          return {
            partition: p.partition,
            fetchOffset: BigInt(p.offset),
            partitionMaxBytes: 1_048_576,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          };
        }),
      };
    });
    let response: FetchResponse;
    try {
      response = await this.consumer.fetch({
        node,
        topics: request,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 52_428_800,
      });
    } catch (err) {
      // A partition asked for from an offset it no longer holds (retention) starts again at
      // its earliest offset, as kafkajs's consumer does.
      const res = (err as { response?: FetchResponse }).response;
      if (res === undefined || !this.resetOutOfRange(res, requested)) throw err;
      return;
    }
    if (this.closed) return;
    for (const t of response.responses) {
      const parts = requested.get(t.topicId);
      if (parts === undefined) continue;
      for (const fp of t.partitions) {
        const p = parts.get(fp.partitionIndex);
        // A partition paused since, or one the fetch session served unasked: not now.
        if (p === undefined || p.paused) continue;
        this.deliver(p, fp);
      }
    }
  }

  private resetOutOfRange(
    res: FetchResponse,
    requested: Map<string, Map<number, PartitionState>>,
  ): boolean {
    let reset = false;
    for (const t of res.responses) {
      for (const fp of t.partitions) {
        if (fp.errorCode === 0) continue;
        const p = requested.get(t.topicId)?.get(fp.partitionIndex);
        if (fp.errorCode !== OFFSET_OUT_OF_RANGE || p === undefined || fp.logStartOffset < 0n) {
          return false;
        }
        p.offset = Number(fp.logStartOffset);
        reset = true;
      }
    }
    return reset;
  }

  /**
   * Hands over one partition's fetched batches. Aborted transactions are skipped the way
   * Kafka's Java consumer does it: a transactional batch is aborted when its producer has an
   * aborted transaction (listed by the broker) that started at or before the batch, until
   * that producer's abort marker — whether or not the marker is within this fetch.
   */
  private deliver(p: PartitionState, fp: FetchedPartition): void {
    const batches = fp.records;
    if (fp.errorCode !== 0 || batches === undefined || batches === null || batches.length === 0) {
      return;
    }
    const from = p.offset;
    const aborted = fp.abortedTransactions !== null && fp.abortedTransactions.length > 0
      ? [...fp.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1))
      : undefined;
    let abortedIndex = 0;
    let abortedProducers: Set<bigint> | undefined = undefined;
    const records: KafkaMessage[] = [];
    let next = from;
    for (let b = 0; b < batches.length; b++) {
      const batch: Batch = batches[b]!;
      const base = Number(batch.firstOffset);
      const last = base + batch.lastOffsetDelta;
      if (last + 1 > next) next = last + 1;
      if (aborted !== undefined) {
        while (
          abortedIndex < aborted.length && aborted[abortedIndex]!.firstOffset <= BigInt(last)
        ) {
          (abortedProducers ??= new Set()).add(aborted[abortedIndex]!.producerId);
          abortedIndex++;
        }
      }
      const transactional = (batch.attributes & IS_TRANSACTIONAL) !== 0;
      if ((batch.attributes & IS_CONTROL) !== 0) {
        if (transactional && abortedProducers !== undefined) {
          const key = batch.records[0]?.key;
          if (key !== null && key !== undefined && key.length >= 4) {
            const type = (key[2]! << 8) | key[3]!;
            if (type === ABORT_MARKER) abortedProducers.delete(batch.producerId);
          }
        }
        continue;
      }
      if (transactional && abortedProducers?.has(batch.producerId) === true) continue;
      const firstTimestamp = Number(batch.firstTimestamp);
      const rs = batch.records;
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i]!;
        const offset = base + r.offsetDelta;
        // A batch starting before the position (compressed batches are fetched whole).
        if (offset < from) continue;
        records.push({
          key: r.key ?? null,
          value: r.value ?? null,
          topic: p.topic,
          partition: p.partition,
          offset,
          timestamp: firstTimestamp + Number(r.timestampDelta),
          headers: r.headers.length === 0 ? NO_HEADERS : headersOf(r.headers),
        });
      }
    }
    if (next <= from) return;
    p.offset = next;
    this.handler.onRecords(p.topic, p.partition, records, next, Number(fp.highWatermark));
  }
}

function headersOf(
  list: readonly [Uint8Array | null, Uint8Array | null][],
): Record<string, Uint8Array | Uint8Array[] | undefined> {
  const out: Record<string, Uint8Array | Uint8Array[] | undefined> = {};
  for (const [k, v] of list) {
    if (k === null) continue;
    const name = headerDecoder.decode(k);
    const value = v ?? new Uint8Array(0);
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

function keyOf(topic: string, partition: number): string {
  return `${partition}\u0000${topic}`;
}
