/**
 * Enrichment with `join`: every order joined with its customer, including a customer's second
 * order and orders placed after the customer changed.
 *
 *   deno run examples/join_enrich.ts
 *
 * Prints:
 *   o1 ann 12.50 -> Ann (Oslo)
 *   o2 bob 3.00 -> Bob (Bergen)
 *   o3 ann 7.50 -> Ann (Oslo)
 *   o3 ann 7.50 -> Ann (Trondheim)
 *   o4 ann 20.00 -> Ann (Trondheim)
 *   o5 cid 1.25 -> Cid (Tromsø)
 *
 * The join runs with `emitMode: "running"` and `insertMode: "last"`: each key keeps the last
 * value of each side and emits `[order, customer]` whenever either side gets a value, with
 * `undefined` for a side that has none yet; a `filter` keeps the tuples that have both. So:
 *
 * - every order is emitted with the customer's latest value (o1, o3, o4);
 * - an order whose customer is not known yet is emitted when the customer arrives (o5), as
 *   long as it is still the customer's last order (`"last"` keeps one order per customer);
 * - a customer update re-emits the customer's last order with the new value (o3 after ann
 *   moved to Trondheim): the output is the latest view of each customer's last order. Drop
 *   such repeats downstream (by order id) if each order must come out once.
 *
 * The default mode, `emitMode: "complete"`, suits one-to-one joins instead: it emits once
 * every side has a value and then clears the key. Here it would print o1, o2, then o3 only
 * when ann's next customer record arrives (with Trondheim), and never o4: o4 is held until
 * another ann record comes, which at EOF it never does. `insertMode: "product"` keeps every
 * value of both sides, so in running mode each new value re-emits all of ann's orders with
 * all her records (15 lines here instead of 6).
 *
 * The events come from one log of customers and orders (as from a change-data-capture
 * topic), split with `branch`, so their order is deterministic.
 *
 * @module
 */
import { filter, map } from "rxjs";
import { Dataflow, join, keyOn, run } from "@weir/weir";
import { StdOutSink } from "@weir/weir/connectors/stdio";
import { TestingSource } from "@weir/weir/testing";

/** A customer's current name and city. */
export interface Customer {
  readonly kind: "customer";
  readonly id: string;
  readonly name: string;
  readonly city: string;
}

/** An order of a customer. */
export interface Order {
  readonly kind: "order";
  readonly id: string;
  readonly customer: string;
  readonly amount: number;
}

const customer = (id: string, name: string, city: string): Customer => ({
  kind: "customer",
  id,
  name,
  city,
});
const order = (id: string, customer: string, amount: number): Order => ({
  kind: "order",
  id,
  customer,
  amount,
});

/** Customers and orders in the order they happen. */
export const events: (Customer | Order)[] = [
  customer("ann", "Ann", "Oslo"),
  customer("bob", "Bob", "Bergen"),
  order("o1", "ann", 12.5),
  order("o2", "bob", 3),
  order("o3", "ann", 7.5), // ann's second order: joined too
  customer("ann", "Ann", "Trondheim"), // an update after an order: o3 again, with the new city
  order("o4", "ann", 20), // joined with the updated customer
  order("o5", "cid", 1.25), // cid is not known yet: emitted when cid arrives
  customer("cid", "Cid", "Tromsø"),
];

/** Builds the flow over `items`: one line per enriched order. */
export function enrichOrders(items: (Customer | Order)[]): Dataflow {
  const flow = new Dataflow("join_enrich");
  const { trues: orders, falses: customers } = flow
    .input("events", new TestingSource(items, { batchSize: 1 }))
    .branch("split", (e): e is Order => e.kind === "order");
  const joined = join("enrich", [
    orders.pipe(keyOn("orders_by_customer", (o: Order) => o.customer)),
    customers.pipe(keyOn("customers_by_id", (c: Customer) => c.id)),
  ], { emitMode: "running", insertMode: "last" });
  joined
    .pipe(
      map(([, [o, c]]) => [o, c] as const),
      filter((oc): oc is readonly [Order, Customer] => oc[0] !== undefined && oc[1] !== undefined),
      map(([o, c]) => `${o.id} ${o.customer} ${o.amount.toFixed(2)} -> ${c.name} (${c.city})`),
    )
    .output("print", new StdOutSink<string>());
  return flow;
}

/** The flow over the bundled events. */
export const flow: Dataflow = enrichOrders(events);

if (import.meta.main) await run(flow);
