/**
 * Event-time windows: clicks per user in 1-minute tumbling windows, with events arriving out
 * of order and two arriving too late. Results, late items and window metadata are three
 * separate streams.
 *
 *   deno run examples/windowed_events.ts
 *
 * Prints (ann's 12:00 window closes when her 12:01:45 click moves her watermark past 12:01):
 *   ann 12:00 3 clicks
 *   late: ann clicked at 12:00:20 (window 12:00 had closed)
 *   bob 12:00 1 clicks
 *   bob 12:01 1 clicks
 *   late: bob clicked at 12:00:59 (window 12:00 had closed)
 *   ann 12:01 1 clicks
 *   ann 12:02 1 clicks
 *   bob 12:02 1 clicks
 *
 * @module
 */
import { map } from "rxjs";
import { countWindow, Dataflow, EventClock, run, TumblingWindower } from "@weir/weir";
import { StdOutSink } from "@weir/weir/connectors/stdio";
import { TestingSource } from "@weir/weir/testing";

/** A click, with its event time. */
export interface Click {
  readonly user: string;
  readonly at: Date;
}

const noon = Date.UTC(2026, 10, 23, 12, 0, 0);
const click = (user: string, mmss: string): Click => {
  const [m, s] = mmss.split(":").map(Number);
  return { user, at: new Date(noon + (m! * 60 + s!) * 1000) };
};

/** Clicks in arrival order: slightly out of order, and two very late ones at the end. */
export const clicks: Click[] = [
  click("ann", "00:05"),
  click("bob", "00:40"),
  click("ann", "00:50"),
  click("ann", "00:35"), // out of order by 15 s, within the 20 s we wait
  click("bob", "01:10"),
  click("ann", "01:45"),
  click("bob", "02:30"),
  click("ann", "02:35"),
  click("ann", "00:20"), // late: ann's watermark is already past 12:02
  click("bob", "00:59"), // late too
];

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const hhmmss = (d: Date) => d.toISOString().slice(11, 19);

/** Builds the flow over `items`. */
export function windowedEvents(items: Click[]): Dataflow {
  const flow = new Dataflow("windowed_events");
  const windower = new TumblingWindower(60_000, noon);
  const { down, late } = countWindow("per_minute", flow.input("clicks", new TestingSource(items)), {
    clock: new EventClock((c: Click) => c.at, { waitFor: 20_000 }),
    windower,
    keyFn: (c) => c.user,
  });
  down.pipe(
    map(([user, [id, n]]) => `${user} ${hhmm(windower.metadataFor(id).open)} ${n} clicks`),
  ).output("print_counts", new StdOutSink<string>());
  late.pipe(
    map(([user, [id, c]]) =>
      `late: ${user} clicked at ${hhmmss(c.at)} (window ${
        hhmm(windower.metadataFor(id).open)
      } had closed)`
    ),
  ).output("print_late", new StdOutSink<string>());
  return flow;
}

/** The flow over the bundled clicks. */
export const flow: Dataflow = windowedEvents(clicks);

if (import.meta.main) await run(flow);
