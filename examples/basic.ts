/**
 * The smallest useful flow: numbers → keep the odd ones → square them → print.
 *
 *   deno run examples/basic.ts
 *   deno task run examples/basic.ts      # through the CLI, which looks up `flow`
 *
 * @module
 */
import { filter, map } from "rxjs";
import { Dataflow, run } from "@weir/weir";
import { StdOutSink } from "@weir/weir/connectors/stdio";
import { TestingSource } from "@weir/weir/testing";

/** 0..9 → odd → squared → stdout: prints 1, 9, 25, 49, 81. */
export const flow = new Dataflow("basic");
flow.input("inp", new TestingSource([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { batchSize: 5 }))
  .pipe(filter((x: number) => x % 2 === 1), map((x) => x * x))
  .output("out", new StdOutSink<number>());

if (import.meta.main) await run(flow);
