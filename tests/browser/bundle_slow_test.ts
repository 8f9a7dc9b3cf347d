// dist/weir.js in headless Chromium, built as `deno task bundle` builds it: the run monitor is
// a chunk next to it, fetched only when a run is observed (onProgress), and an observed run
// works from it. (Its own file, so it can be dropped into browser_slow_test.ts's registry; it
// prints its own skip line without a Chromium.)
import { assertEquals } from "@std/assert";
import { bundle } from "../../scripts/bundle.ts";
import { serveStatic } from "../../scripts/_static.ts";
import { browserTest, Chromium } from "./_chromium.ts";

/** The page: an unobserved run, then an observed one, noting when the monitor was fetched. */
const PAGE = `<!doctype html>
<script type="importmap">{ "imports": { "@weir/weir": "./weir.js" } }</script>
<script type="module">
import { Dataflow, EOF, run } from "@weir/weir";
const fetched = () =>
  performance.getEntriesByType("resource").filter((e) => /\\/monitor-\\w+\\.js$/.test(e.name)).length;
const out = [];
const flow = new Dataflow("chunks");
flow.input("inp", {
  build: () => {
    let sent = false;
    return { nextBatch: () => sent ? EOF : (sent = true, [1, 2, 3]) };
  },
}).output("out", { build: () => ({ writeBatch: (items) => { out.push(...items); } }) });
try {
  const plain = await run(flow);
  const afterPlain = fetched();
  const events = [];
  const observed = await run(flow, {
    onProgress: (p) => events.push(\`\${p.event} \${p.status} \${p.outputs[0].items}\`),
  });
  globalThis.result = {
    statuses: [plain.status, observed.status],
    fetched: [afterPlain, fetched()],
    events: [events[0], events.at(-1)],
    out,
  };
} catch (err) {
  globalThis.result = { error: String(err?.stack ?? err) };
}
</script>
`;

browserTest(
  "browser bundle: the monitor chunk is fetched only for an observed run, which reports progress",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "weir_browser_bundle_" });
    const profile = await Deno.makeTempDir({ prefix: "weir_browser_profile_" });
    try {
      await bundle("src/browser.ts", `${dir}/weir.js`, { minify: true, sourcemap: true });
      await Deno.writeTextFile(`${dir}/index.html`, PAGE);
      const server = await serveStatic(dir, 0);
      const chromium = await Chromium.launch(profile);
      try {
        const page = await chromium.open(`http://127.0.0.1:${server.addr.port}/`);
        await page.waitFor("globalThis.result !== undefined", 20_000);
        assertEquals(await page.evaluate("result"), {
          statuses: ["eof", "eof"],
          // Not after the unobserved run; once after the observed one.
          fetched: [0, 1],
          events: ["started running 0", "finished eof 3"],
          out: [1, 2, 3, 1, 2, 3],
        });
      } finally {
        await chromium.close();
        await server.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(profile, { recursive: true });
    }
  },
);
