/**
 * The HTTP server behind `run(flow, { metrics: { port } })` and the CLI's `--metrics-port`.
 * Deno only (`Deno.serve`): `run` loads this module with a dynamic import only when a port is
 * given, so the browser-safe core never reaches it.
 *
 * Routes:
 * - `/metrics`: Prometheus text exposition (see `prometheus.ts`);
 * - `/`: the live dashboard (see `dashboard.ts`);
 * - `/graph`: the flow's graph as `flowGraph` JSON;
 * - `/progress`: the current `RunProgress` as JSON;
 * - `/events`: server-sent events, one `RunProgress` JSON per event;
 * - `/history`: the last 120 epoch ends and commits, `{ kind: "e" | "c", epoch, v }` (`v`: an
 *   epoch's duration in ms, a commit's bytes), for the dashboard's timeline.
 *
 * @module
 */
import type { Dataflow } from "../dataflow/dataflow.ts";
import { flowGraph } from "../dataflow/visualize.ts";
import type { MetricsServer, MetricsServerOptions, Monitor, RunProgress } from "./monitor.ts";
import { addToTotals, emptyTotals, prometheusText } from "./prometheus.ts";
import { DASHBOARD_HTML } from "./dashboard.ts";

const encoder = new TextEncoder();

/**
 * Starts the server for one run.
 *
 * @param flow The flow (for `/graph` and the dashboard).
 * @param options Port and address.
 * @throws {RangeError} If the port is not an integer from 0 to 65535.
 * @throws {Error} If the port cannot be bound, naming the address (cause: the OS error).
 */
export async function serveMetrics(
  flow: Dataflow,
  options: MetricsServerOptions,
): Promise<MetricsServer> {
  const { port } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`metrics.port must be an integer from 0 to 65535, got ${port}`);
  }
  const hostname = options.hostname ?? "127.0.0.1";
  const graph = JSON.stringify(flowGraph(flow));
  const totals = emptyTotals();
  const history: Array<{ kind: "e" | "c"; epoch: number; v: number }> = [];
  let monitor: Monitor | undefined;
  let latest: RunProgress | undefined;
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const send = (c: ReadableStreamDefaultController<Uint8Array>, p: RunProgress) => {
    try {
      c.enqueue(encoder.encode(`data: ${JSON.stringify(p)}\n\n`));
    } catch {
      streams.delete(c); // the client went away
    }
  };
  const current = () => monitor?.current() ?? latest;

  const handler = (req: Request): Response => {
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/metrics": {
        const p = current();
        if (p === undefined) {
          return new Response("The run has not started yet\n", { status: 503 });
        }
        return new Response(prometheusText(p, totals), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      }
      case "/":
        return new Response(DASHBOARD_HTML, {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      case "/history":
        return Response.json(history);
      case "/graph":
        return new Response(graph, { headers: { "content-type": "application/json" } });
      case "/progress": {
        const p = current();
        return p === undefined
          ? new Response("null", { headers: { "content-type": "application/json" } })
          : Response.json(p);
      }
      case "/events": {
        let ctl: ReadableStreamDefaultController<Uint8Array> | undefined;
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            ctl = c;
            streams.add(c);
            const p = current();
            if (p !== undefined) send(c, p);
          },
          cancel() {
            if (ctl !== undefined) streams.delete(ctl);
          },
        });
        return new Response(body, {
          headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
        });
      }
      default:
        return new Response(
          "Not found: try /, /metrics, /graph, /progress, /events or /history\n",
          {
            status: 404,
          },
        );
    }
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  const listening = Promise.withResolvers<Deno.NetAddr>();
  try {
    server = Deno.serve({
      port,
      hostname,
      onListen: (addr) => listening.resolve(addr),
    }, handler);
  } catch (err) {
    const denied = err instanceof Deno.errors.NotCapable ||
      err instanceof Deno.errors.PermissionDenied && /--allow-net/.test(String(err));
    const fix = denied
      ? `run Deno with --allow-net=${hostname}:${port}`
      : `pick another port with metrics.port (or --metrics-port), or 0 for a free one`;
    throw new Error(
      `Cannot serve metrics on ${hostname}:${port}: ${(err as Error).message}; ${fix}`,
      { cause: err },
    );
  }
  const addr = await listening.promise;
  options.onListen?.({ hostname: addr.hostname, port: addr.port });
  let unsubscribe: (() => void) | undefined;
  return {
    hostname: addr.hostname,
    port: addr.port,
    attach(m: Monitor) {
      unsubscribe?.();
      monitor = m;
      unsubscribe = m.subscribe((p) => {
        latest = p;
        addToTotals(totals, p);
        if (p.event === "epoch" && p.lastEpoch !== undefined) {
          history.push({ kind: "e", epoch: p.lastEpoch.epoch, v: p.lastEpoch.durationMs });
        } else if (p.event === "commit" && p.lastCommit !== undefined) {
          history.push({ kind: "c", epoch: p.lastCommit.epoch, v: p.lastCommit.bytes });
        }
        if (history.length > 120) history.splice(0, history.length - 120);
        for (const c of streams) send(c, p);
      });
    },
    async close() {
      unsubscribe?.();
      latest = monitor?.current() ?? latest;
      monitor = undefined;
      for (const c of streams) {
        try {
          c.close();
        } catch {
          // Already closed by the client.
        }
      }
      streams.clear();
      await server.shutdown();
    },
  };
}
