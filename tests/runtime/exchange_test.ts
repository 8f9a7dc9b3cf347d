// The exchange between workers, driven directly over a real MessageChannel.
import { assertEquals } from "@std/assert";
import { WallClock } from "../../src/clock.ts";
import { NO_PARTIAL } from "../../src/dataflow/op.ts";
import {
  ExchangeHub,
  ExchangeNode,
  keyHash,
  keyOwner,
  type Link,
  type LinkMessage,
} from "../../src/runtime/exchange.ts";
import { WorkerRuntime } from "../../src/runtime/worker_runtime.ts";

Deno.test("keyHash is FNV-1a of the key's UTF-16 code units: the same everywhere, every run", () => {
  assertEquals(keyHash(""), 0x811c9dc5);
  assertEquals(keyHash("a"), 0xe40c292c);
  assertEquals(keyHash("foobar"), 0xbf9cf968);
  assertEquals(["a", "b", "c", "d"].map((k) => keyOwner(k, 2)), [0, 1, 0, 1]);
});

/** Worker 0's side of a two-worker exchange, and what arrives at worker 1. */
function worker0(combine?: { fold(p: unknown, v: unknown): unknown }) {
  const rt = new WorkerRuntime(new WallClock(), 0, 2);
  const ch = new MessageChannel();
  const hub = new ExchangeHub(0, 2, [undefined, ch.port1 as unknown as Link], rt);
  const received: LinkMessage[] = [];
  ch.port2.onmessage = (ev) => received.push(ev.data);
  const local: unknown[] = [];
  let completed = false;
  const down = { next: (x: unknown) => local.push(x), complete: () => completed = true };
  const route = (item: unknown) => keyOwner((item as [string, unknown])[0], 2);
  const node = new ExchangeNode(
    "f.count",
    0,
    hub,
    route,
    down,
    combine && {
      fold: combine.fold,
      build: () => {
        throw new Error("not used");
      },
    },
  );
  hub.exchanges.push(node);
  const settle = () => new Promise((r) => setTimeout(r, 20));
  const close = () => {
    ch.port1.close();
    ch.port2.close();
  };
  return { rt, hub, node, ch, received, local, completed: () => completed, settle, close };
}

Deno.test("items for another worker leave as one batch per activation; this worker's go on at once", async () => {
  const w = worker0();
  try {
    for (let i = 0; i < 100; i++) w.node.next([i % 2 ? "b" : "a", i]);
    assertEquals(w.local.length, 50); // "a" is worker 0's
    assertEquals(w.received, []);
    w.node.flush();
    await w.settle();
    assertEquals(w.received.length, 1);
    const m = w.received[0] as { x: number; items: [string, number][] };
    assertEquals(m.items.length, 50);
    assertEquals(m.items.slice(0, 2), [["b", 1], ["b", 3]]);
    assertEquals(w.hub.sent, 1);
  } finally {
    w.close();
  }
});

Deno.test("pre-aggregation: a fold moves one [key, partial] pair per key and epoch", async () => {
  const count = (p: unknown) => p === NO_PARTIAL ? 1 : (p as number) + 1;
  const w = worker0({ fold: count });
  try {
    for (let i = 0; i < 1000; i++) w.node.next([["a", "b", "d"][i % 3]!, "x"]);
    w.node.flush();
    for (let i = 0; i < 10; i++) w.node.next(["b", "x"]);
    w.node.flush();
    await w.settle();
    // Partials are held across activations until the epoch ends.
    assertEquals([w.received, w.local], [[], []]);
    w.node.draining = true;
    w.node.flush();
    await w.settle();
    // "b" and "d" belong to worker 1: two pairs cross instead of 677 items.
    assertEquals(w.received, [{ x: 0, items: [["b", 343], ["d", 333]] }]);
    assertEquals(w.local, [["a", 334]]);
    // The next epoch starts new partials; EOF sends them too.
    w.node.draining = false;
    w.node.next(["b", "x"]);
    w.node.complete();
    w.node.flush();
    await w.settle();
    assertEquals(w.received.slice(1), [{ x: 0, items: [["b", 1]] }, { x: 0, eof: true }]);
  } finally {
    w.close();
  }
});

Deno.test("the downstream completes once this worker's upstream and every other worker ended", async () => {
  const w = worker0();
  try {
    w.node.complete();
    w.node.flush();
    await w.settle();
    assertEquals(w.received, [{ x: 0, eof: true }]);
    assertEquals([w.completed(), w.node.done], [false, false]);
    // Worker 1 sends a last batch, then its EOF marker.
    w.ch.port2.postMessage({ x: 0, items: [["a", 7]] });
    w.ch.port2.postMessage({ x: 0, eof: true });
    await w.settle();
    assertEquals([w.hub.waiting, w.local], [2, []]);
    w.rt.inActivation = true;
    w.node.flush();
    assertEquals(w.local, [["a", 7]]);
    assertEquals([w.completed(), w.node.done, w.hub.delivered, w.hub.waiting], [true, true, 2, 0]);
  } finally {
    w.close();
  }
});
