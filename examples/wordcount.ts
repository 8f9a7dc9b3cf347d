/**
 * Word count: the lines of a bundled text → lower-cased words → counts, printed as
 * `word count` lines, most frequent first (ties alphabetical). Deterministic.
 *
 *   deno task example                                  # the bundled text
 *   deno run --allow-read examples/wordcount.ts FILE   # any text file
 *
 * @module
 */
import { map, toArray } from "rxjs";
import { Dataflow, flatMap } from "../mod.ts";
import { FileSource } from "../connectors/files.ts";
import { StdOutSink } from "../connectors/stdio.ts";

/** Splits a line into lower-cased words (letters, digits and inner apostrophes). */
export function words(line: string): string[] {
  return line.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];
}

/** Counts words and orders them: most frequent first, ties alphabetical. */
export function countWords(all: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const w of all) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Builds the word-count flow over `path`. */
export function wordcount(path: string): Dataflow {
  const flow = new Dataflow("wordcount");
  flow.input("lines", new FileSource(path))
    .pipe(
      flatMap("split", words),
      // Plain RxJS: gather every word, emitted once at EOF.
      toArray(),
      flatMap("count", countWords),
      map(([word, n]: [string, number]) => `${word} ${n}`),
    )
    .output("out", new StdOutSink<string>());
  return flow;
}

/** The flow over the bundled text, for `deno task run examples/wordcount.ts`. */
export const flow: Dataflow = wordcount(new URL("./data/river.txt", import.meta.url).pathname);

if (import.meta.main) {
  const { run } = await import("../mod.ts");
  await run(Deno.args[0] ? wordcount(Deno.args[0]) : flow);
}
