/**
 * The word count of `wordcount.ts` on two workers: the same output, in the same order.
 *
 *   deno run --allow-read=examples examples/parallel_wordcount.ts
 *   deno run --allow-read=examples,FILE examples/parallel_wordcount.ts FILE
 *
 * Each worker imports `wordcount.ts` and calls its `wordcount(path)` export (a flow is data
 * with functions, so it cannot be sent to a worker). Worker 0 reads the file (it has one
 * partition) and splits the lines; the words then go to the worker owning each word (a hash of
 * the key), where `countFinal` counts them; only partial counts cross between workers. The
 * ranking gathers every count under one key, so it runs on one worker and prints in order.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { run } from "@weir/weir";
import { wordcount } from "./wordcount.ts";

const path = Deno.args[0] ?? fileURLToPath(new URL("./data/river.txt", import.meta.url));
const module = new URL("./wordcount.ts", import.meta.url);
await run(wordcount(path), { workers: 2, module, export: "wordcount", args: [path] });
