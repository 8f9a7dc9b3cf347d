/**
 * The browser demo's page script (bundled by `deno task serve` into `dist/demo.js`; the page's
 * import map points `@weir/weir…` at the `dist/weir.js` bundle).
 *
 * Runs the flow of `flow.ts` with recovery in IndexedDB and draws each sensor's 5-second
 * averages as an SVG chart. Reload the tab, close it, or kill the browser: the next load
 * resumes from the last committed epoch, and the chart, the state and the readings continue
 * where they were. URL parameters: `store` (IndexedDB database, default `weir-demo`), `rate`
 * (readings per second, default 8), `limit` (stop after that many readings), `epoch` (epoch
 * interval in ms, default 500).
 *
 * `globalThis.weirDemo` exposes the page's state to the browser tests.
 *
 * @module
 */
import { inspectStore, run } from "@weir/weir";
import { idbBackend } from "@weir/weir/recovery/idb";
import {
  ChartSink,
  type Point,
  POINTS_PER_SENSOR,
  sensorFlow,
  SENSORS,
  SensorSource,
} from "./flow.ts";

// The few DOM APIs used here (Deno's type library has no DOM; see src/recovery/_idb_types.ts).
interface El {
  textContent: string | null;
  setAttribute(name: string, value: string): void;
  replaceChildren(...nodes: El[]): void;
  append(...nodes: El[]): void;
  addEventListener(type: string, fn: () => void): void;
}
interface Dom {
  readonly document: {
    getElementById(id: string): El | null;
    createElementNS(ns: string, tag: string): El;
  };
  readonly location: { readonly search: string; reload(): void };
  readonly indexedDB: { deleteDatabase(name: string): { onsuccess: unknown; onerror: unknown } };
  requestAnimationFrame(fn: () => void): number;
  weirDemo?: DemoState;
}
const dom = globalThis as unknown as Dom;

/** What the page shows, for the tests. */
interface DemoState {
  status: "starting" | "running" | "eof" | "stopped" | "error";
  error?: string;
  store: string;
  /** The last committed epoch found when the page loaded (0: a new store). */
  resumedAfterEpoch: number;
  /** Readings produced so far (the source's position). */
  position: number;
  /** The source's position when this run started (0, or where the last commit left it). */
  startPosition: number | undefined;
  /** The points the chart had when this run started (restored from the store). */
  restoredPoints: number | undefined;
  /** The chart's points. */
  points: readonly Point[];
  /** Times the chart was drawn. */
  draws: number;
}

const params = new URLSearchParams(dom.location.search);
const num = (name: string, fallback: number) => {
  const v = params.get(name);
  return v === null ? fallback : Number(v);
};
const store = params.get("store") ?? "weir-demo";
const rate = num("rate", 8);
const limitParam = params.get("limit");
const limit = limitParam === null ? undefined : Number(limitParam);
const epochInterval = num("epoch", 500);

const state: DemoState = {
  status: "starting",
  store,
  resumedAfterEpoch: 0,
  position: 0,
  startPosition: undefined,
  restoredPoints: undefined,
  points: [],
  draws: 0,
};
dom.weirDemo = state;

const SVG = "http://www.w3.org/2000/svg";
/** Distinct, saturated colours: the screenshot test looks for them in the chart. */
export const COLORS: Readonly<Record<string, string>> = {
  kitchen: "#e6194b",
  garage: "#3cb44b",
  attic: "#4363d8",
  cellar: "#f58231",
};
const W = 800;
const H = 360;
const PAD = { left: 44, right: 130, top: 14, bottom: 28 };

function el(tag: string, attrs: Record<string, string | number>, text?: string): El {
  const e = dom.document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function draw(): void {
  const chart = dom.document.getElementById("chart");
  if (chart === null) return;
  state.draws++;
  const points = state.points;
  const nodes: El[] = [];
  if (points.length === 0) {
    nodes.push(
      el(
        "text",
        { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#888" },
        "waiting for the first window…",
      ),
    );
  } else {
    let wMin = Infinity, wMax = -Infinity, vMin = Infinity, vMax = -Infinity;
    for (const p of points) {
      wMin = Math.min(wMin, p.window);
      wMax = Math.max(wMax, p.window);
      vMin = Math.min(vMin, p.avg);
      vMax = Math.max(vMax, p.avg);
    }
    wMin = Math.max(wMin, wMax - POINTS_PER_SENSOR + 1);
    vMin = Math.floor(vMin) - 1;
    vMax = Math.ceil(vMax) + 1;
    const x = (w: number) =>
      PAD.left + ((w - wMin) / Math.max(1, wMax - wMin)) * (W - PAD.left - PAD.right);
    const y = (v: number) =>
      H - PAD.bottom - ((v - vMin) / (vMax - vMin)) * (H - PAD.top - PAD.bottom);
    // Grid and axis labels.
    for (let v = Math.ceil(vMin); v <= vMax; v += Math.max(1, Math.round((vMax - vMin) / 6))) {
      nodes.push(
        el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), stroke: "#e4e4e4" }),
      );
      nodes.push(
        el("text", {
          x: PAD.left - 6,
          y: y(v) + 4,
          "text-anchor": "end",
          "font-size": 11,
          fill: "#666",
        }, `${v}°`),
      );
    }
    nodes.push(
      el("text", { x: PAD.left, y: H - 8, "font-size": 11, fill: "#666" }, `window ${wMin}`),
    );
    nodes.push(
      el("text", {
        x: W - PAD.right,
        y: H - 8,
        "text-anchor": "end",
        "font-size": 11,
        fill: "#666",
      }, `window ${wMax} (5 s each)`),
    );
    SENSORS.forEach((sensor, i) => {
      const mine = points.filter((p) => p.sensor === sensor && p.window >= wMin);
      if (mine.length === 0) return;
      const color = COLORS[sensor]!;
      nodes.push(el("polyline", {
        points: mine.map((p) => `${x(p.window).toFixed(1)},${y(p.avg).toFixed(1)}`).join(" "),
        fill: "none",
        stroke: color,
        "stroke-width": 2.5,
        "stroke-linejoin": "round",
      }));
      const last = mine[mine.length - 1]!;
      nodes.push(el("circle", { cx: x(last.window), cy: y(last.avg), r: 3.5, fill: color }));
      nodes.push(
        el("rect", {
          x: W - PAD.right + 14,
          y: PAD.top + 6 + i * 22,
          width: 12,
          height: 12,
          fill: color,
        }),
      );
      nodes.push(
        el("text", {
          x: W - PAD.right + 32,
          y: PAD.top + 17 + i * 22,
          "font-size": 12,
          fill: "#333",
        }, `${sensor} ${last.avg.toFixed(1)}°`),
      );
    });
  }
  chart.replaceChildren(...nodes);
  const status = dom.document.getElementById("status");
  if (status !== null) {
    status.textContent = `store "${store}" · ${
      state.resumedAfterEpoch > 0 ? `resumed after epoch ${state.resumedAfterEpoch}` : "new store"
    } · ${state.position} readings · ${points.length} windows on the chart · ${state.status}${
      state.error ? `: ${state.error}` : ""
    }`;
  }
}

let drawQueued = false;
function queueDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  dom.requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

const stop = new AbortController();

async function main(): Promise<void> {
  try {
    // Where the store stands, read without writing (another tab may be running it).
    const report = await inspectStore(idbBackend(store)).catch(() => undefined);
    state.resumedAfterEpoch = report?.lastEpoch ?? 0;
    const source = new SensorSource({
      rate,
      limit,
      onPosition: (p) => {
        state.startPosition ??= p;
        state.position = p;
        queueDraw();
      },
    });
    const sink = new ChartSink((points) => {
      state.restoredPoints ??= points.length;
      state.points = points.slice();
      queueDraw();
    });
    state.status = "running";
    queueDraw();
    const summary = await run(sensorFlow(source, sink), {
      recovery: { backend: idbBackend(store), create: true },
      epochInterval,
      signal: stop.signal,
    });
    state.status = summary.status === "eof" ? "eof" : "stopped";
  } catch (err) {
    state.status = "error";
    state.error = err instanceof Error ? err.message : String(err);
  }
  draw();
}

const finished = main();

dom.document.getElementById("reset")?.addEventListener("click", async () => {
  // Stop the run (it commits its epoch), delete the store, start over.
  stop.abort();
  await finished;
  await new Promise((resolve) => {
    const req = dom.indexedDB.deleteDatabase(store);
    req.onsuccess = resolve;
    req.onerror = resolve;
  });
  dom.location.reload();
});
