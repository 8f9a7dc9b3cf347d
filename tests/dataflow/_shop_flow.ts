// The flow the visualize tests draw: a branch, merges, a join (a scope) and a window operator
// (a scope with four outputs).
import { map } from "rxjs";
import { countWindow, Dataflow, EventClock, join, keyOn, TumblingWindower } from "../../mod.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";

type E = { user: string; t: number };

/** Branch, merge, join (a scope) and a window operator (a scope with four outputs). */
export function shop(): Dataflow {
  const flow = new Dataflow("shop");
  const clicks = flow.input("clicks", new TestingSource<E>([]));
  const { trues: big, falses: small } = clicks.branch("is_big", (e) => e.t > 10);
  const all = flow.merge("both", big, small.pipe(map((e) => e)));
  const keyed = all.pipe(keyOn("by_user", (e: E) => e.user));
  const users = flow.input("users", new TestingSource<E>([]))
    .pipe(keyOn("key_users", (e) => e.user));
  join("joined", [keyed, users]).output("joined_out", new TestingSink([]));
  const { down } = countWindow("per_min", clicks, {
    clock: new EventClock((e: E) => e.t, { waitFor: 0 }),
    windower: new TumblingWindower(60_000, 0),
    keyFn: (e) => e.user,
  });
  down.output("counts", new TestingSink([]));
  return flow;
}
