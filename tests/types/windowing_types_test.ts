// Compile-time checks of the window operators' types (run by `deno test`'s type check).
import { assertEquals, assertThrows } from "@std/assert";
import {
  countWindow,
  Dataflow,
  EventClock,
  foldWindow,
  joinWindow,
  type KeyedStream,
  keyOn,
  type Stream,
  TumblingWindower,
  type WindowMetadata,
} from "../../mod.ts";
import { TestingSource } from "../../src/testing/mod.ts";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_proof: T): void {}

type Ev = { t: number; n: number };

Deno.test("window operators infer their result, late and meta types", () => {
  const flow = new Dataflow("types");
  const evs = flow.input("inp", new TestingSource<Ev>([])).pipe(keyOn("k", (e) => `${e.n}`));
  const clock = new EventClock((e: Ev) => e.t, { waitFor: 0 });
  const windower = new TumblingWindower(1_000, 0);
  const out = foldWindow("sum", evs, {
    clock,
    windower,
    builder: () => 0,
    folder: (acc: number, e: Ev) => acc + e.n,
    merger: (a: number, b: number) => a + b,
  });
  expectType<Equals<typeof out.down, KeyedStream<[number, number]>>>(true);
  expectType<Equals<typeof out.late, KeyedStream<[number, Ev]>>>(true);
  expectType<Equals<typeof out.meta, KeyedStream<[number, WindowMetadata]>>>(true);
  const piped = evs.pipe(foldWindow("sum2", {
    clock,
    windower,
    builder: () => "",
    folder: (acc: string, e: Ev) => acc + e.n,
    merger: (a: string, b: string) => a + b,
    late: "drop",
  }));
  expectType<Equals<typeof piped, Stream<[string, [number, string]]>>>(true);
  const counts = countWindow("count", flow.input("raw", new TestingSource<Ev>([])), {
    clock,
    windower,
    keyFn: (e) => `${e.n}`,
  });
  expectType<Equals<typeof counts.down, KeyedStream<[number, number]>>>(true);
  const other = flow.input("other", new TestingSource<[string, string]>([]));
  const joined = joinWindow("j", [evs, other] as const, { clock, windower });
  expectType<
    Equals<typeof joined.down, KeyedStream<[number, [Ev | undefined, string | undefined]]>>
  >(
    true,
  );
  assertThrows(() =>
    // @ts-expect-error the pipeable form needs a late policy
    foldWindow("bad", {
      clock,
      windower,
      builder: () => 0,
      folder: (a: number) => a,
      merger: (a: number) => a,
    })
  );
  assertEquals(out.down.id, "types.sum.down.down");
});
