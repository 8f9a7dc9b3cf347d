// The operator, stateful and windowing flows of tests/parallel/suite_flows.ts on 1 worker and
// on 2: the same items, each key's items in the same order. Across keys (and for items
// without a key) the order between workers is not defined, so only per-key order is compared.
import { assert, assertEquals } from "@std/assert";
import { run } from "../../mod.ts";
import { FLOWS, suiteFlow } from "./suite_flows.ts";

const MODULE = new URL("./suite_flows.ts", import.meta.url);

/**
 * Canonical form of an output: keyed items (`[string, value]`) grouped by key in arrival order,
 * keys sorted; other items sorted by their JSON.
 */
export function perKey(out: readonly unknown[]): { keyed: [string, string[]][]; other: string[] } {
  const keyed = new Map<string, string[]>();
  const other: string[] = [];
  for (const item of out) {
    if (Array.isArray(item) && item.length === 2 && typeof item[0] === "string") {
      let list = keyed.get(item[0]);
      if (list === undefined) keyed.set(item[0], list = []);
      list.push(JSON.stringify(item[1]));
    } else other.push(JSON.stringify(item));
  }
  return { keyed: [...keyed].sort(([a], [b]) => a < b ? -1 : 1), other: other.sort() };
}

/** Runs `name` on 1 worker and on `workers`; returns both outputs. */
export async function onWorkers(name: string, workers: number) {
  const one: unknown[] = [];
  const many: unknown[] = [];
  assertEquals((await run(suiteFlow(name, one))).status, "eof");
  const summary = await run(suiteFlow(name, many), {
    workers,
    module: MODULE,
    export: "suiteFlow",
    args: [name],
  });
  assertEquals(summary.status, "eof");
  return { one, many };
}

for (const name of Object.keys(FLOWS)) {
  if (name === "stateless") continue;
  Deno.test(`2 workers: ${name} gives 1 worker's items, each key's in order`, async () => {
    const { one, many } = await onWorkers(name, 2);
    assert(one.length > 0, "the flow produced nothing");
    assertEquals(many.length, one.length);
    assertEquals(perKey(many), perKey(one));
  });
}

Deno.test("2 workers: stateless steps and redistribute give 1 worker's items", async () => {
  // redistribute deals a key's items to both workers: no order holds, only the items.
  const { one, many } = await onWorkers("stateless", 2);
  assertEquals(one.length, 756); // 378 words longer than 2 characters, twice
  const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
  assertEquals(sorted(many), sorted(one));
});

Deno.test("2 workers: concrete results of the keyed count", async () => {
  const { many } = await onWorkers("countFinal", 2);
  const counts = new Map(many as [string, number][]);
  assertEquals(counts.size, 300);
  assertEquals([...counts.values()].reduce((a, b) => a + b, 0), 3000);
});
