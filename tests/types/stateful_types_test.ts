// Compile-time checks of the stateful operators' types (run by `deno test`'s type check).
import { assertEquals } from "@std/assert";
import {
  collect,
  countFinal,
  Dataflow,
  join,
  type KeyedStream,
  keyOn,
  RETAIN,
  stateful,
  statefulBatch,
  statefulMap,
  type Stream,
} from "../../mod.ts";
import { TestingSource } from "../../src/testing/mod.ts";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_proof: T): void {}

Deno.test("stateful operators keep keys and infer their outputs", () => {
  const flow = new Dataflow("types");
  const keyed = flow.input("inp", new TestingSource([1, 2])).pipe(keyOn("k", (x) => `${x}`));
  const means = keyed.pipe(
    statefulMap("mean", (s: number | undefined, v: number): [number, string] => [v, `${s}`]),
  );
  expectType<Equals<typeof means, Stream<[string, string]>>>(true);
  const batches = keyed.pipe(collect("c", { timeout: 1, maxSize: 2 }));
  expectType<Equals<typeof batches, Stream<[string, number[]]>>>(true);
  const counts = flow.input("words", new TestingSource(["a"])).pipe(countFinal("n", (w) => w));
  expectType<Equals<typeof counts, Stream<[string, number]>>>(true);
  // The snapshot type comes from snapshot(), so an annotated resume parameter is fine.
  const last = keyed.pipe(stateful("last", (resume: number | undefined) => {
    let prev = resume;
    return {
      onItem: (v: number) => {
        const out = [prev ?? -1];
        prev = v;
        return [out, RETAIN] as const;
      },
      snapshot: () => prev,
    };
  }));
  expectType<Equals<typeof last, Stream<[string, number]>>>(true);
  const names: KeyedStream<string> = keyed.pipe(statefulBatch("b", () => ({
    onBatch: (vs: number[]) => [vs.map(String), RETAIN] as const,
    snapshot: () => 0,
  })));
  const pairs = join("j", [keyed, names] as const);
  expectType<Equals<typeof pairs, KeyedStream<[number | undefined, string | undefined]>>>(true);
  const raw = flow.input("raw", new TestingSource([1]));
  const needsKeys = statefulMap("bad", (s: number | undefined, v: number) => [s, v] as const);
  // @ts-expect-error statefulMap needs a keyed stream
  raw.pipe(needsKeys);
  assertEquals(pairs.id, "types.j.join.down");
});
