/**
 * Kafka word count, exactly once: reads lines from a topic, keeps a running count per word
 * (snapshotted with the topic's offsets every epoch), and writes `word` → `count` records to
 * another topic in one Kafka transaction per epoch. Kill it at any moment and start it again:
 * a `read_committed` reader of the output sees every count once.
 *
 *   deno task kafka --topics lines,word-counts          # a broker on 127.0.0.1:9092
 *   deno run --allow-net=127.0.0.1:9092 --allow-read=DIR --allow-write=DIR \
 *     examples/kafka_wordcount.ts DIR [--brokers 127.0.0.1:9092] [--input lines] \
 *     [--output word-counts] [--follow]
 *
 * DIR holds the recovery store. Without `--follow` it reads the input to the end it has when
 * the run starts, then stops; with it, it keeps reading (Ctrl-C stops it gracefully).
 *
 * Prints `resumed after epoch N` and, at the end, `wrote N counts`.
 *
 * @module
 */
import { map } from "rxjs";
import { Dataflow, flatMap, inspect, run, statefulMap } from "@weir/weir";
import { type KafkaMessage, KafkaSink, KafkaSource } from "@weir/weir/connectors/kafka";
import { fsBackend } from "@weir/weir/recovery/fs";

/** The words of a line: lower case, letters and inner apostrophes. */
export function words(line: string): string[] {
  return line.toLowerCase().match(/\p{L}+(?:'\p{L}+)*/gu) ?? [];
}

/** Options of {@linkcode kafkaWordCount}. */
export interface WordCountOptions {
  readonly brokers: string[];
  readonly input: string;
  readonly output: string;
  /** Keep reading (default: stop at the input's end offsets seen at the start). */
  readonly follow?: boolean;
  /** Counts written, for the summary. */
  readonly written?: { n: number };
}

/** The flow: lines → words → running count per word → `[word, count]` records. */
export function kafkaWordCount(o: WordCountOptions): Dataflow {
  const decoder = new TextDecoder();
  const flow = new Dataflow("kafka_wordcount");
  flow.input("lines", new KafkaSource(o.brokers, [o.input], { tail: o.follow === true }))
    .pipe(
      map((m: KafkaMessage) => decoder.decode(m.value ?? new Uint8Array())),
      flatMap("split", (line: string) => words(line).map((w) => [w, w] as [string, string])),
      statefulMap("count", (n: number | undefined, _w: string) => [(n ?? 0) + 1, (n ?? 0) + 1]),
      inspect("tally", () => void (o.written !== undefined && o.written.n++)),
      map(([word, n]: [string, number]) => [word, String(n)] as [string, string]),
    )
    .output(
      "counts",
      new KafkaSink(o.brokers, o.output, {
        exactlyOnce: true,
        transactionalId: `kafka_wordcount.${o.output}`,
      }),
    );
  return flow;
}

function option(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1]! : fallback;
}

if (import.meta.main) {
  const dir = Deno.args.find((a, i) => !a.startsWith("--") && !Deno.args[i - 1]?.startsWith("--"));
  if (dir === undefined) {
    console.error(
      "Usage: kafka_wordcount.ts DIR [--brokers B] [--input T] [--output T] [--follow]",
    );
    Deno.exit(2);
  }
  const written = { n: 0 };
  const flow = kafkaWordCount({
    brokers: option("brokers", "127.0.0.1:9092").split(","),
    input: option("input", "lines"),
    output: option("output", "word-counts"),
    follow: Deno.args.includes("--follow"),
    written,
  });
  const stop = new AbortController();
  Deno.addSignalListener("SIGINT", () => stop.abort());
  const summary = await run(flow, {
    epochInterval: 1000,
    recovery: { backend: fsBackend(`${dir}/store`), create: true },
    signal: stop.signal,
  });
  console.log(`resumed after epoch ${summary.resumedFrom}`);
  console.log(`wrote ${written.n} counts`);
  Deno.exit(0);
}
