/**
 * Word count: the lines of a bundled text → lower-cased words → counts, printed as
 * `word count` lines, most frequent first (ties alphabetical). Deterministic.
 *
 *   deno task example                                       # the bundled text
 *   deno run --allow-read=examples examples/wordcount.ts    # the same
 *   deno run --allow-read=FILE examples/wordcount.ts FILE   # any text file
 *
 * How it counts, and why this way:
 *
 * 1. `countFinal` counts per word as keyed state: one counter per distinct word, snapshotted
 *    with recovery, never a list of every word. At EOF it emits `[word, n]` once per word.
 * 2. Ranking needs every count at once, so the counts (one per distinct word, not one per
 *    word read) go under a single key and `foldFinal` gathers them at EOF; a `flatMap` then
 *    sorts them and emits them one by one. Gathering the input itself with RxJS `toArray`
 *    and counting in a `Map` would hold every word read, in state that is neither keyed nor
 *    snapshotted (see "Concepts" in the README).
 *
 * The data path is built with `new URL("./data/river.txt", import.meta.url)` and turned into
 * a file path with `fileURLToPath`, which decodes it (`URL.pathname` keeps `%20` for a space
 * and breaks in a directory whose name has one).
 *
 * @module
 */
import { map } from "rxjs";
import { fileURLToPath } from "node:url";
import { countFinal, Dataflow, flatMap, foldFinal, keyOn, run } from "@weir/weir";
import { FileSource } from "@weir/weir/connectors/files";
import { StdOutSink } from "@weir/weir/connectors/stdio";

/** Splits a line into lower-cased words (letters, digits and inner apostrophes). */
export function words(line: string): string[] {
  return line.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];
}

/** Orders `[word, count]` pairs in place: most frequent first, ties alphabetical. */
export function rank(counts: [string, number][]): [string, number][] {
  return counts.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Builds the word-count flow over the text file at `path`. */
export function wordcount(path: string): Dataflow {
  const flow = new Dataflow("wordcount");
  flow.input("lines", new FileSource(path))
    .pipe(
      flatMap("split", words),
      countFinal("count", (word: string) => word),
      keyOn("all", () => "all"),
      foldFinal("gather", (): [string, number][] => [], (all, count: [string, number]) => {
        all.push(count); // the accumulator is this key's own array, made by the builder
        return all;
      }),
      flatMap("rank", ([, counts]) => rank(counts)),
      map(([word, n]) => `${word} ${n}`),
    )
    .output("out", new StdOutSink<string>());
  return flow;
}

/** The flow over the bundled text, for `deno task run examples/wordcount.ts`. */
export const flow: Dataflow = wordcount(
  fileURLToPath(new URL("./data/river.txt", import.meta.url)),
);

if (import.meta.main) await run(Deno.args[0] ? wordcount(Deno.args[0]) : flow);
