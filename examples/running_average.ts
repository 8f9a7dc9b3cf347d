/**
 * Running average per sensor with `statefulMap`: each reading is emitted with the mean of
 * that sensor's readings so far. The state (sum and count per sensor) is keyed and would be
 * snapshotted at epoch ends with recovery on.
 *
 *   deno run examples/running_average.ts
 *
 * Prints:
 *   hall 20.0 -> avg 20.00
 *   attic 31.5 -> avg 31.50
 *   hall 22.0 -> avg 21.00
 *   ...
 *
 * @module
 */
import { map } from "rxjs";
import { Dataflow, keyOn, run, statefulMap } from "@weir/weir";
import { StdOutSink } from "@weir/weir/connectors/stdio";
import { TestingSource } from "@weir/weir/testing";

/** One temperature reading. */
export interface Reading {
  readonly sensor: string;
  readonly celsius: number;
}

/** Sum and count of a sensor's readings. */
interface Mean {
  readonly sum: number;
  readonly n: number;
}

const readings: Reading[] = [
  { sensor: "hall", celsius: 20.0 },
  { sensor: "attic", celsius: 31.5 },
  { sensor: "hall", celsius: 22.0 },
  { sensor: "cellar", celsius: 12.25 },
  { sensor: "attic", celsius: 29.5 },
  { sensor: "hall", celsius: 21.5 },
  { sensor: "cellar", celsius: 12.75 },
];

/** Builds the flow over `items`. */
export function runningAverage(items: Reading[]): Dataflow {
  const flow = new Dataflow("running_average");
  flow.input("readings", new TestingSource(items))
    .pipe(
      keyOn("by_sensor", (r) => r.sensor),
      statefulMap("mean", (s: Mean | undefined, r: Reading): [Mean, [Reading, number]] => {
        const next = { sum: (s?.sum ?? 0) + r.celsius, n: (s?.n ?? 0) + 1 };
        return [next, [r, next.sum / next.n]];
      }),
      map(([sensor, [r, avg]]) => `${sensor} ${r.celsius.toFixed(1)} -> avg ${avg.toFixed(2)}`),
    )
    .output("print", new StdOutSink<string>());
  return flow;
}

/** The flow over the bundled readings. */
export const flow: Dataflow = runningAverage(readings);

if (import.meta.main) await run(flow);
