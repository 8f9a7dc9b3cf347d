/**
 * Recovery: running totals per customer over an order log, snapshotted every epoch. The
 * second run resumes where the first stopped — the totals are restored, only the orders
 * appended since are read, and the output file gets each line exactly once.
 *
 *   deno run --allow-read=DIR --allow-write=DIR examples/recovery.ts DIR   # DIR must exist
 *   deno run --allow-read --allow-write examples/recovery.ts   # in a new temporary directory
 *
 * (The files and the store's directory are made in DIR, so read and write on DIR is all it
 * needs; a temporary directory's location is not known in advance.)
 *
 * Prints:
 *   run 1 resumed after epoch 0
 *   run 2 resumed after epoch 1
 *   ann 12.50
 *   ann 20.00
 *   bob 3.00
 *   cid 1.25
 *   bob 10.00
 *
 * (Within one batch of lines a stateful step sees each key's values together, so ann's two
 * orders of the first run come out one after the other.)
 *
 * Kill a run at any moment (even with SIGKILL) and start it again: the output is the same.
 *
 * @module
 */
import { map } from "rxjs";
import { Dataflow, keyOn, run, statefulMap } from "@weir/weir";
import { FileSink, FileSource } from "@weir/weir/connectors/files";
import { fsBackend } from "@weir/weir/recovery/fs";

/** The flow: `customer,amount` lines → running total per customer → one line per order. */
export function orderTotals(orders: string, totals: string): Dataflow {
  const flow = new Dataflow("order_totals");
  flow.input("orders", new FileSource(orders))
    .pipe(
      map((line: string) => line.split(",")),
      keyOn("by_customer", ([customer]) => customer!),
      statefulMap("total", (sum: number | undefined, [, amount]: string[]) => {
        const next = (sum ?? 0) + Number(amount);
        return [next, next];
      }),
      map(([customer, total]) => [customer, `${customer} ${total.toFixed(2)}`] as const),
    )
    .output("totals", new FileSink(totals));
  return flow;
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "weir_recovery_example_" });
  const orders = `${dir}/orders.csv`;
  const totals = `${dir}/totals.txt`;
  const recovery = { backend: fsBackend(`${dir}/state`), create: true };
  const flow = orderTotals(orders, totals);

  await Deno.writeTextFile(orders, "ann,12.50\nbob,3.00\nann,7.50\n");
  const first = await run(flow, { epochInterval: 1000, recovery });
  console.log(`run 1 resumed after epoch ${first.resumedFrom}`);

  await Deno.writeTextFile(orders, "cid,1.25\nbob,7.00\n", { append: true });
  const second = await run(flow, { epochInterval: 1000, recovery });
  console.log(`run 2 resumed after epoch ${second.resumedFrom}`);

  console.log((await Deno.readTextFile(totals)).trimEnd());
  if (Deno.args[0] === undefined) await Deno.remove(dir, { recursive: true });
}
