// The browser demo (examples/browser) in headless Chromium, built as `deno task serve`
// builds it (dist/weir.js through the page's import map): reloaded mid-run and killed
// mid-run (SIGKILL of the browser process), each resumed run must end with exactly the
// windows of an uninterrupted run of the same flow (computed here, in Deno); and the chart
// must be drawn (its sensor colours found in a screenshot).
import {
  assert,
  assertEquals,
  assertGreater,
  assertGreaterOrEqual,
  assertStringIncludes,
} from "@std/assert";
import { run } from "../../mod.ts";
import { serveStatic } from "../../scripts/_static.ts";
import { buildDemo } from "../../scripts/serve.ts";
import { ChartSink, type Point, sensorFlow, SensorSource } from "../../examples/browser/flow.ts";
import { browserTest, Chromium, type Page } from "./_chromium.ts";
import { countColor, decodePng } from "./_png.ts";

/** Readings per test run: 300 per sensor, 14 closed windows per sensor. */
const LIMIT = 1200;
/** Readings per second in the page: a run takes about 4 s. */
const RATE = 300;

interface DemoState {
  status: string;
  error?: string;
  resumedAfterEpoch: number;
  position: number;
  startPosition?: number;
  restoredPoints?: number;
  points: Point[];
}

/**
 * Points by sensor, then window. (The order across sensors depends on how readings were
 * batched, which differs between runs; within a sensor it is the windows' order, checked by
 * `inOrder`.)
 */
function bySensor(points: readonly Point[]): Point[] {
  return [...points].sort((a, b) =>
    a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : a.window - b.window
  );
}

/** Each sensor's windows arrive in order, each once. */
function inOrder(points: readonly Point[]): void {
  const last = new Map<string, number>();
  for (const p of points) {
    assert((last.get(p.sensor) ?? -1) < p.window, `${p.sensor} window ${p.window} out of order`);
    last.set(p.sensor, p.window);
  }
}

/** The windows of an uninterrupted run of the demo's flow over LIMIT readings. */
async function expectedPoints(): Promise<Point[]> {
  let points: readonly Point[] = [];
  const flow = sensorFlow(
    new SensorSource({ rate: Infinity, limit: LIMIT }),
    new ChartSink((p) => points = p.slice()),
  );
  assertEquals((await run(flow)).status, "eof");
  return bySensor(points);
}

async function withDemo(
  fn: (origin: string, profile: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_browser_demo_" });
  const profile = await Deno.makeTempDir({ prefix: "weir_browser_profile_" });
  try {
    await buildDemo(dir);
    const server = await serveStatic(dir, 0);
    try {
      await fn(`http://127.0.0.1:${server.addr.port}`, profile);
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(profile, { recursive: true });
  }
}

const state = (page: Page) => page.evaluate<DemoState>("weirDemo");

/** Waits until the page's run ended at EOF; fails with its error otherwise. */
async function untilEof(page: Page): Promise<DemoState> {
  await page.waitFor(
    `globalThis.weirDemo?.status === "eof" || globalThis.weirDemo?.status === "error"`,
    30_000,
  );
  const s = await state(page);
  assertEquals(s.error, undefined);
  assertEquals(s.status, "eof");
  return s;
}

browserTest(
  "browser demo: reloaded mid-run, it resumes and ends with the windows of an uninterrupted run",
  async () => {
    const expected = await expectedPoints();
    assertEquals(expected.length, 236);
    await withDemo(async (origin, profile) => {
      const chromium = await Chromium.launch(profile);
      try {
        const url = `${origin}/?store=reload-${Date.now()}&limit=${LIMIT}&rate=${RATE}&epoch=100`;
        const page = await chromium.open(url);
        await page.waitFor("globalThis.weirDemo?.position >= 400", 20_000);
        const before = await state(page);
        assertEquals(before.status, "running");
        await page.reload();
        await page.waitFor("globalThis.weirDemo?.restoredPoints !== undefined", 10_000);
        const after = await untilEof(page);
        // It resumed from a commit of the interrupted run, not from the start…
        assertGreater(after.resumedAfterEpoch, 0);
        assertGreater(after.startPosition!, 0);
        assert(
          after.startPosition! <= before.position,
          `${after.startPosition} > ${before.position}`,
        );
        assertGreater(after.restoredPoints!, 0);
        // …and lost nothing, repeated nothing.
        assertEquals(after.position, LIMIT);
        inOrder(after.points);
        assertEquals(bySensor(after.points), expected);
      } finally {
        await chromium.close();
      }
    });
  },
);

browserTest(
  "browser demo: the browser killed mid-run (SIGKILL), the relaunched page resumes with nothing lost",
  async () => {
    const expected = await expectedPoints();
    await withDemo(async (origin, profile) => {
      const url = `${origin}/?store=kill-${Date.now()}&limit=${LIMIT}&rate=${RATE}&epoch=100`;
      const first = await Chromium.launch(profile);
      let before: DemoState;
      try {
        const page = await first.open(url);
        await page.waitFor("globalThis.weirDemo?.position >= 400", 20_000);
        before = await state(page);
        assertEquals(before.status, "running");
      } finally {
        await first.kill();
      }
      const second = await Chromium.launch(profile);
      try {
        const page = await second.open(url);
        const after = await untilEof(page);
        assertGreater(after.resumedAfterEpoch, 0);
        assertGreater(after.startPosition!, 0);
        assert(
          after.startPosition! <= before.position,
          `${after.startPosition} > ${before.position}`,
        );
        assertEquals(after.position, LIMIT);
        inOrder(after.points);
        assertEquals(bySensor(after.points), expected);
      } finally {
        await second.close();
      }
    });
  },
);

browserTest(
  "browser demo: the chart is drawn (every sensor's colour in the chart area of a screenshot); a second tab is refused",
  async () => {
    await withDemo(async (origin, profile) => {
      const chromium = await Chromium.launch(profile);
      try {
        const url = `${origin}/?store=shot-${Date.now()}&rate=400&limit=20000`;
        const page = await chromium.open(url);
        await page.waitFor("globalThis.weirDemo?.points.length >= 40", 20_000);
        // Let the next animation frame draw the latest points.
        await page.evaluate(
          "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))",
        );
        const rect = await page.evaluate<{ x: number; y: number; width: number; height: number }>(
          `(() => { const r = document.getElementById("chart").getBoundingClientRect();
                  return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`,
        );
        const png = await page.screenshot();
        const out = Deno.env.get("WEIR_SCREENSHOT");
        if (out) await Deno.writeFile(out, png); // to look at it
        const img = await decodePng(png);
        // The lines' area: the chart minus the legend on its right (130 px of 800).
        const plot = { ...rect, width: rect.width * (670 / 800) };
        const colors = await page.evaluate<Record<string, string>>(
          `Object.fromEntries([...document.querySelectorAll("#chart polyline")]
            .map((p) => [p.getAttribute("stroke"), p.getAttribute("stroke")]))`,
        );
        assertEquals(Object.keys(colors).sort(), ["#3cb44b", "#4363d8", "#e6194b", "#f58231"]);
        for (const color of Object.keys(colors)) {
          // A 2.5 px line across the plot: several hundred pixels of its colour.
          assertGreaterOrEqual(countColor(img, color, plot), 300, `${color} in the chart`);
        }
        // Outside the chart, none of them (the chart is where the lines are).
        const below = { x: 0, y: rect.y + rect.height + 40, width: img.width, height: 100 };
        for (const color of Object.keys(colors)) assertEquals(countColor(img, color, below), 0);
        // A second tab on the same store is refused while this one runs.
        const second = await chromium.open(url);
        await second.waitFor(`globalThis.weirDemo?.status === "error"`, 10_000);
        const refused = await state(second);
        assertStringIncludes(refused.error!, `is in use by another run`);
        assertEquals((await state(page)).status, "running");
      } finally {
        await chromium.close();
      }
    });
  },
);
