// A flow whose input pauses (a pending batch) after `n` items until `open()` is called: while
// paused, every item read has gone through the flow, so counters can be compared exactly.
import { map } from "rxjs";
import { Dataflow, type DynamicSource, EOF, keyOn, statefulMap } from "../../mod.ts";
import { TestingSink } from "../../src/testing/mod.ts";

/** The flow, the sink's items, and the gate. */
export function gatedFlow(n: number, batch = 100): {
  flow: Dataflow;
  out: unknown[];
  open: () => void;
} {
  const gate = Promise.withResolvers<typeof EOF>();
  const source: DynamicSource<number> = {
    build() {
      let i = 0;
      return {
        nextBatch: () => {
          if (i >= n) return gate.promise;
          const b = Array.from({ length: Math.min(batch, n - i) }, (_, k) => i + k);
          i += b.length;
          return b;
        },
      };
    },
  };
  const out: unknown[] = [];
  const flow = new Dataflow("m");
  flow.input("nums", source)
    .pipe(
      map((x: number) => x * 2),
      keyOn("key", (x: number) => `k${x % 20}`),
      statefulMap("sum", (s: number | undefined, v: number): [number, number] => {
        const next = (s ?? 0) + v;
        return [next, next];
      }),
    )
    .output("out", new TestingSink(out));
  return { flow, out, open: () => gate.resolve(EOF) };
}
