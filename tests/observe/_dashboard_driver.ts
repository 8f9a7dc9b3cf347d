// deno-lint-ignore-file no-explicit-any
// Page functions run in the browser; `globalThis.document` is typed `any` here so that this
// file type-checks with Deno's libraries (a DOM lib reference would clash with them).
// Drives the dashboard in headless Chromium (run as a subprocess with -A by
// dashboard_test.ts: playwright-core needs permissions the test suite does not grant).
//   deno run -A tests/observe/_dashboard_driver.ts <url> <dir for screenshots>
// Prints one JSON object with what the page showed; screenshots go to <dir>/before.png and
// <dir>/after.png.
import { launchChromium } from "./_browser.ts";

const [url, dir] = Deno.args as [string, string];
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 680 } });
  page.setDefaultTimeout(20_000);
  await page.goto(url);
  await page.waitForSelector('g.node[data-step="words.out"]');
  const steps = await page.$$eval("g.node", (ns) => ns.map((n) => n.getAttribute("data-step")));
  const scopes = await page.$$eval("g.scope text", (ts) => ts.map((t) => t.textContent));
  const edges = await page.$$eval("path.edge", (es) => es.length);
  const stat = 'g.node[data-step="words.lines"] .stat';
  await page.waitForFunction(
    (sel) => /\d+ out/.test((globalThis as any).document.querySelector(sel)!.textContent!),
    stat,
  );
  const before = await page.textContent(stat);
  const epochBefore = Number(await page.textContent("#epoch"));
  await page.screenshot({ path: `${dir}/before.png` });
  await page.waitForFunction(
    ([sel, t]) => (globalThis as any).document.querySelector(sel)!.textContent !== t,
    [stat, before] as const,
  );
  await page.waitForFunction(
    (e) => Number((globalThis as any).document.getElementById("epoch")!.textContent) > e,
    epochBefore,
  );
  const after = await page.textContent(stat);
  const epochAfter = Number(await page.textContent("#epoch"));
  const status = await page.textContent("#status");
  await page.waitForSelector('[data-input="words.lines"] .bar > div');
  const bar = await page.$eval(
    '[data-input="words.lines"] .bar > div',
    (d) => (d as any).style.width,
  );
  await page.waitForFunction(() =>
    /\d+ keys/.test(
      (globalThis as any).document.querySelector('g.node[data-step="words.count.count"] .stat')!
        .textContent!,
    )
  );
  const keys = await page.textContent('g.node[data-step="words.count.count"] .stat');
  await page.waitForSelector("#tl rect.e");
  await page.waitForFunction(() =>
    (globalThis as any).document.getElementById("commit")!.textContent !== "–"
  );
  const commit = await page.textContent("#commit");
  await page.screenshot({ path: `${dir}/after.png` });
  // The run ends (the test lets it): the page says so and the bar is full.
  await page.waitForFunction(() =>
    (globalThis as any).document.getElementById("status")!.textContent === "eof"
  );
  const input = await page.textContent('[data-input="words.lines"]');
  console.log(JSON.stringify({
    steps,
    scopes,
    edges,
    before,
    after,
    epochBefore,
    epochAfter,
    status,
    bar,
    keys,
    commit,
    input,
  }));
} finally {
  await browser.close();
}
