// Compile-time checks that the common call forms infer without casts or `as const` (issue #10):
// `deno check tests/` fails if an inference here regresses or a `@ts-expect-error` line stops
// being an error. Written as a user would write the code.
import { assertEquals, assertThrows } from "@std/assert";
import {
  collectWindow,
  countWindow,
  Dataflow,
  EventClock,
  join,
  joinWindow,
  type KeyedStream,
  keyOn,
  SessionWindower,
  statefulFlatMap,
  statefulMap,
  type Stream,
  TumblingWindower,
  type WeirOperator,
  type WindowBounds,
  withBounds,
} from "../../mod.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** Exact type equality: resolves to true only when A and B are the same type. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_proof: T): void {}

type Order = { id: string; total: number; t: number };
type Customer = { id: string; name: string; t: number };

Deno.test("join and joinWindow infer a tuple of sides without as const", () => {
  const flow = new Dataflow("types");
  const orders = flow.input("orders", new TestingSource<[string, Order]>([]));
  const customers = flow.input("customers", new TestingSource<[string, Customer]>([]));
  const joined = join("id", [orders, customers]);
  expectType<Equals<typeof joined, KeyedStream<[Order | undefined, Customer | undefined]>>>(true);
  const running = join("running", [orders, customers], { emitMode: "running" });
  expectType<Equals<typeof running, KeyedStream<[Order | undefined, Customer | undefined]>>>(
    true,
  );
  const { down } = joinWindow("w", [orders, customers], {
    clock: new EventClock((x: Order | Customer) => x.t, { waitFor: 0 }),
    windower: new SessionWindower(1_000),
  });
  expectType<
    Equals<typeof down, KeyedStream<[number, [Order | undefined, Customer | undefined]]>>
  >(true);
  // An array built elsewhere is still an array, so its join is per element.
  const sides: Stream<[string, Order]>[] = [orders, orders];
  const many = join("many", sides);
  expectType<Equals<typeof many, KeyedStream<(Order | undefined)[]>>>(true);
  // @ts-expect-error the sides must be keyed streams
  join("bad", [orders, flow.input("raw", new TestingSource([1]))]);
  assertEquals(joined.id, "types.id.join.down");
});

Deno.test("statefulMap infers its state from init, its value from the upstream", () => {
  const flow = new Dataflow("types");
  const keyed = flow.input("inp", new TestingSource([{ v: 1 }])).pipe(keyOn("k", () => "a"));
  const sums = keyed.pipe(statefulMap("sum", (acc, r) => [acc + r.v, `${acc + r.v}`], { init: 0 }));
  expectType<Equals<typeof sums, Stream<[string, string]>>>(true);
  const lists = keyed.pipe(
    statefulMap("list", (acc, r) => [[...acc, r.v], acc.length], { init: (): number[] => [] }),
  );
  expectType<Equals<typeof lists, Stream<[string, number]>>>(true);
  const objs = keyed.pipe(
    statefulMap("obj", (acc, r) => [{ n: acc.n + r.v }, acc.n], { init: () => ({ n: 0 }), ttl: 5 }),
  );
  expectType<Equals<typeof objs, Stream<[string, number]>>>(true);
  // Without init, annotating the state alone is enough: the value still comes from upstream.
  const annotated = keyed.pipe(statefulMap("a", (acc: number | undefined, r) => [r.v, acc ?? 0]));
  expectType<Equals<typeof annotated, Stream<[string, number]>>>(true);
  // The fully annotated form still compiles.
  const op = statefulMap("f", (acc: number | undefined, r: { v: number }) => [acc, r.v]);
  expectType<Equals<typeof op, WeirOperator<readonly [string, { v: number }], [string, number]>>>(
    true,
  );
  const fresh = keyed.pipe(
    statefulFlatMap("fresh", (seen, r) => [[...seen, r.v], seen.includes(r.v) ? [] : [r.v]], {
      init: (): number[] => [],
    }),
  );
  expectType<Equals<typeof fresh, Stream<[string, number]>>>(true);
  // @ts-expect-error with init, the mapper must return a state of init's type
  keyed.pipe(statefulMap("bad", (acc, r) => [`${acc}`, r.v], { init: 0 }));
  // @ts-expect-error without init or an annotation the state is unknown
  keyed.pipe(statefulMap("bad2", (acc, r) => [(acc ?? 0) + r.v, r.v]));
  assertEquals(sums.id, "types.sum.down");
});

Deno.test("TestingSource infers keyed pairs as tuples and keeps primitives wide", () => {
  const flow = new Dataflow("types");
  const keyed = flow.input("k", new TestingSource([["a", 1], TestingSource.EOF(), ["a", 2]]));
  expectType<Equals<typeof keyed, Stream<[string, number]>>>(true);
  const objs = new TestingSource([["a", { t: 1 }], TestingSource.PAUSE(5), ["b", { t: 2 }]]);
  expectType<Equals<typeof objs, TestingSource<[string, { t: number }]>>>(true);
  const nums = flow.input("n", new TestingSource([1, 2, TestingSource.ABORT(), 3]));
  expectType<Equals<typeof nums, Stream<number>>>(true);
  const strs = flow.input("s", new TestingSource(["a", "b"]));
  expectType<Equals<typeof strs, Stream<string>>>(true);
  const mixed = flow.input("m", new TestingSource([1, "a", null]));
  expectType<Equals<typeof mixed, Stream<number | string | null>>>(true);
  const typed: [string, number][] = [["a", 1]];
  expectType<Equals<typeof typed, [string, number][]>>(true);
  const fromVar = flow.input("v", new TestingSource(typed));
  expectType<Equals<typeof fromVar, Stream<[string, number]>>>(true);
  const explicit = new TestingSource<number | string>([1, "a"]);
  expectType<Equals<typeof explicit, TestingSource<number | string>>>(true);
  // The common pairings with TestingSink compile as written.
  strs.output("s_out", new TestingSink<string>([]));
  nums.output("n_out", new TestingSink<number>([]));
  const pairsOut: [string, number][] = [];
  keyed.output("k_out", new TestingSink(pairsOut));
  keyed.pipe(keyOn("again", ([k]) => k)).output(
    "k2_out",
    new TestingSink<[string, [string, number]]>([]),
  );
  // @ts-expect-error a number source does not fit a string sink
  nums.output("bad", new TestingSink<string>([]));
  assertEquals(keyed.id, "types.k.down");
});

Deno.test("collectWindow's result follows into", () => {
  const flow = new Dataflow("types");
  const orders = flow.input("o", new TestingSource<[string, Order]>([]));
  const clock = new EventClock((o: Order) => o.t, { waitFor: 0 });
  const windower = new TumblingWindower(1_000, 0);
  const byDefault = collectWindow("d", orders, { clock, windower });
  expectType<Equals<typeof byDefault.down, KeyedStream<[number, Order[]]>>>(true);
  const arrays = collectWindow("a", orders, { clock, windower, into: "array" });
  expectType<Equals<typeof arrays.down, KeyedStream<[number, Order[]]>>>(true);
  const sets = collectWindow("s", orders, { clock, windower, into: "set" });
  expectType<Equals<typeof sets.down, KeyedStream<[number, Set<Order>]>>>(true);
  const pairs = flow.input("p", new TestingSource<[string, [string, number]]>([]));
  const maps = collectWindow("m", pairs, {
    clock: new EventClock(() => 0, { waitFor: 0 }),
    windower,
    into: "map",
  });
  expectType<Equals<typeof maps.down, KeyedStream<[number, Map<string, number>]>>>(true);
  const piped = orders.pipe(collectWindow("ps", { clock, windower, late: "drop", into: "set" }));
  expectType<Equals<typeof piped, Stream<[string, [number, Set<Order>]]>>>(true);
  const pipedDefault = orders.pipe(collectWindow("pd", { clock, windower, late: "drop" }));
  expectType<Equals<typeof pipedDefault, Stream<[string, [number, Order[]]]>>>(true);
  assertThrows(() =>
    // @ts-expect-error into is "array", "set" or "map"
    collectWindow("bad", orders, { clock, windower, into: "list" })
  );
  assertEquals(sets.down.id, "types.s.down.down");
});

Deno.test("countWindow has a pipeable form on the unkeyed stream", () => {
  const flow = new Dataflow("types");
  const orders = flow.input("o", new TestingSource<Order>([]));
  const counts = orders.pipe(countWindow("n", {
    clock: new EventClock((o: Order) => o.t, { waitFor: 0 }),
    windower: new TumblingWindower(1_000, 0),
    keyFn: (o) => o.id,
    late: (key, id, o) => assertEquals([typeof key, typeof id, typeof o.total], ["s", "n", "n"]),
  }));
  expectType<Equals<typeof counts, Stream<[string, [number, number]]>>>(true);
  assertThrows(() =>
    // @ts-expect-error the pipeable form needs a late policy
    countWindow("bad", {
      clock: new EventClock((o: Order) => o.t, { waitFor: 0 }),
      windower: new TumblingWindower(1_000, 0),
      keyFn: (o: Order) => o.id,
    })
  );
  assertEquals(counts.id, "types.n.count.results.down");
});

Deno.test("withBounds keeps the result type and adds typed bounds", () => {
  const flow = new Dataflow("types");
  const orders = flow.input("o", new TestingSource<[string, Order]>([]));
  const clock = new EventClock((o: Order) => o.t, { waitFor: 0 });
  const sets = collectWindow("s", orders, {
    clock,
    windower: new SessionWindower(10),
    into: "set",
  });
  const bounded = withBounds("b", sets);
  expectType<Equals<typeof bounded, KeyedStream<[WindowBounds, Set<Order>]>>>(true);
  const first = withBounds(
    "first",
    joinWindow("j", [orders, orders], { clock, windower: new SessionWindower(10) }),
  );
  expectType<
    Equals<typeof first, KeyedStream<[WindowBounds, [Order | undefined, Order | undefined]]>>
  >(true);
  assertThrows(() =>
    // @ts-expect-error withBounds needs the meta stream too
    withBounds("bad", { down: sets.down })
  );
  assertEquals(bounded.id, "types.b.pair.down");
});
