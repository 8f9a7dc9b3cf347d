// The IndexedDB backend in headless Chromium: the backend conformance suite and the
// backend's own tests (tests/browser/pages/backend_page.ts) run inside the page, each as a
// step here; then what needs the browser itself: two tabs on one store, and a full quota.
import { assert, assertEquals } from "@std/assert";
import { browserTest, Chromium, makeSite, type Page } from "./_chromium.ts";

const PAGE = `<!doctype html><meta charset="utf-8"><title>weir backend tests</title>
<script type="module" src="/backend.js"></script>`;

async function withBrowser(fn: (c: Chromium, origin: string) => Promise<void>): Promise<void> {
  const site = await makeSite([["tests/browser/pages/backend_page.ts", "backend.js"]], {
    "index.html": PAGE,
  });
  const profile = await Deno.makeTempDir({ prefix: "weir_browser_profile_" });
  try {
    const chromium = await Chromium.launch(profile);
    try {
      await fn(chromium, site.origin);
    } finally {
      await chromium.close();
    }
  } finally {
    await site.close();
    await Deno.remove(profile, { recursive: true });
  }
}

async function open(c: Chromium, origin: string): Promise<Page> {
  const page = await c.open(`${origin}/index.html`);
  await page.waitFor("globalThis.weirTestsReady === true");
  return page;
}

const js = JSON.stringify;

browserTest("idbBackend in Chromium: conformance suite and backend tests", async (t) => {
  await withBrowser(async (c, origin) => {
    const page = await open(c, origin);
    const names = await page.evaluate<string[]>("weirTests.names()");
    assert(names.length >= 20, `only ${names.length} tests found in the page`);
    assert(names.some((n) => n.startsWith("idbBackend: segments of 0, 1, 64 KiB-1")));
    for (const name of names) {
      await t.step(name, async () => {
        const r = await page.evaluate<{ ok: boolean; error?: string }>(
          `weirTests.run(${js(name)})`,
        );
        if (!r.ok) throw new Error(r.error);
      });
    }
  });
});

browserTest(
  "idbBackend in Chromium: a second tab is refused, and proceeds once the first closes",
  async () => {
    await withBrowser(async (c, origin) => {
      const first = await open(c, origin);
      const second = await open(c, origin);
      const store = `tabs-${Date.now()}`;
      assertEquals(await first.evaluate(`weirTests.hold(${js(store)})`), true);
      assertEquals(
        await second.evaluate(`weirTests.tryRun(${js(store)})`),
        `RecoveryError: The recovery store in IndexedDB database "${store}" is in use by another ` +
          `run (another process, or another run in this one); two writers would corrupt it`,
      );
      // Closing the first tab releases its lock: the second tab's run proceeds.
      await first.close();
      assertEquals(
        await second.waitFor(`weirTests.tryRun(${js(store)}).then((s) => s === "eof")`),
        true,
      );
    });
  },
);

browserTest(
  "idbBackend in Chromium: a full quota fails the write with a RecoveryError",
  async () => {
    await withBrowser(async (c, origin) => {
      const page = await open(c, origin);
      await page.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 2 * 1024 * 1024 });
      const store = `quota-${Date.now()}`;
      const result = await page.evaluate<string>(`weirTests.writeBig(${js(store)}, ${8 << 20})`);
      assert(
        result.startsWith(
          `RecoveryError: Writing segment base-0000000000000001 (8.0 MiB) in IndexedDB database ` +
            `"${store}" failed: the origin's storage quota is exhausted (the browser reports `,
        ),
        result,
      );
      assert(
        result.endsWith(
          `; nothing was written. Free space (delete IndexedDB databases this origin no longer ` +
            `needs), or ask for persistent storage with navigator.storage.persist() ` +
            `[cause: QuotaExceededError]`,
        ),
        result,
      );
      // With the quota back, the same write succeeds.
      await page.send("Storage.overrideQuotaForOrigin", { origin });
      assertEquals(await page.evaluate(`weirTests.writeBig(${js(store)}, ${8 << 20})`), "ok");
    });
  },
);
