// Compile-time checks of the public types: `deno check` (run by `deno test`) fails if an
// inference here regresses or a `@ts-expect-error` line stops being an error.
import { assertEquals } from "@std/assert";
import { map } from "rxjs";
import {
  Dataflow,
  type FixedPartitionedSink,
  flatMap,
  type KeyedStream,
  keyOn,
  keyRm,
  mapAsync,
  mapValue,
  type Stream,
} from "../../mod.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** Exact type equality: resolves to true only when A and B are the same type. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_proof: T): void {}

Deno.test("pipe infers each operator's output type", () => {
  const flow = new Dataflow("types");
  const nums = flow.input("inp", new TestingSource([1, 2, 3]));
  expectType<Equals<typeof nums, Stream<number>>>(true);
  const keyed = nums.pipe(map((x) => x * 2), keyOn("k", (x) => String(x)));
  expectType<Equals<typeof keyed, Stream<[string, number]>>>(true);
  const lengths = keyed.pipe(mapValue("len", (v) => `${v}`.length));
  expectType<Equals<typeof lengths, Stream<[string, number]>>>(true);
  const values: Stream<number> = lengths.pipe(keyRm("rm"));
  const strings = values.pipe(flatMap("f", (v) => [String(v)]));
  expectType<Equals<typeof strings, Stream<string>>>(true);
  const fetched = strings.pipe(mapAsync("a", (s) => Promise.resolve(s.length)));
  expectType<Equals<typeof fetched, Stream<number>>>(true);
  const alias: KeyedStream<number> = keyed;
  fetched.output("out", new TestingSink<number>([]));
  assertEquals(alias.id, "types.k.down");
});

Deno.test("branch narrows with a type guard", () => {
  const flow = new Dataflow("types");
  const mixed = flow.input("inp", new TestingSource<number | string>([1, "a"]));
  const { trues, falses } = mixed.branch("is_num", (x): x is number => typeof x === "number");
  expectType<Equals<typeof trues, Stream<number>>>(true);
  expectType<Equals<typeof falses, Stream<string>>>(true);
  const plain = mixed.branch("truthy", (x) => Boolean(x));
  expectType<Equals<typeof plain.trues, Stream<number | string>>>(true);
  assertEquals([trues.id, falses.id], ["types.is_num.trues", "types.is_num.falses"]);
});

Deno.test("keyed operators and partitioned sinks need keyed streams", () => {
  const flow = new Dataflow("types");
  const nums = flow.input("inp", new TestingSource([1, 2, 3]));
  // @ts-expect-error mapValue needs [string, V] items
  nums.pipe(mapValue("bad", (v: number) => v + 1));
  // @ts-expect-error keyOn's key function must return a string
  nums.pipe(keyOn("bad_key", (x) => x));
  const sink: FixedPartitionedSink<number, number> = {
    listParts: () => ["p"],
    buildPart: () => ({ writeBatch: () => {}, snapshot: () => 0 }),
  };
  // @ts-expect-error a partitioned sink consumes [key, value] pairs
  nums.output("bad_out", sink);
  nums.pipe(keyOn("key", String)).output("good_out", sink);
  assertEquals(flow.steps.at(-1)?.id, "types.good_out");
});

Deno.test("step() infers its operators' types and rejects mismatched ones", async () => {
  const { step } = await import("../../mod.ts");
  const flow = new Dataflow("types");
  const nums = flow.input("inp", new TestingSource([1, 2]));
  const strs = nums.pipe(step("s", map((x) => x + 1), map((x) => `${x}`)));
  expectType<Equals<typeof strs, Stream<string>>>(true);
  // @ts-expect-error the second operator expects strings
  nums.pipe(step("bad", map((x) => x + 1), map((s: string) => s.length)));
  assertEquals(strs.id, "types.s.down");
});
