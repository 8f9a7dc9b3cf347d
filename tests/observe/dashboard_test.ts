import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { initStore, run } from "../../mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { wordsOf } from "../fixtures/observe_flows.ts";
import { chromiumPath } from "./_browser.ts";

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Uint8Array): [number, number] {
  assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  const view = new DataView(png.buffer, png.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test({
  name: "dashboard: in headless Chromium the page shows the graph and numbers that move",
  ignore: chromiumPath() === undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const text = Array.from({ length: 3000 }, (_, i) => `w${i % 40} x y`).join("\n") + "\n";
      await Deno.writeTextFile(`${dir}/in.txt`, text);
      await Deno.mkdir(`${dir}/store`);
      await initStore(fsBackend(`${dir}/store`), Date.now());
      // 60 batches of 50 lines, each held 60 ms: about 4 s, long enough to watch.
      const flow = wordsOf(`${dir}/in.txt`, `${dir}/out.txt`, 50, 60);
      const listening = Promise.withResolvers<string>();
      const running = run(flow, {
        epochInterval: 300,
        progressInterval: 200,
        recovery: { backend: fsBackend(`${dir}/store`) },
        metrics: { port: 0, onListen: (a) => listening.resolve(`http://${a.hostname}:${a.port}/`) },
      });
      const url = await listening.promise;
      const driver = new URL("./_dashboard_driver.ts", import.meta.url).pathname;
      const browsing = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", driver, url, dir],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const summary = await running;
      assertEquals(summary.status, "eof");
      const r = await browsing;
      assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
      const seen = JSON.parse(new TextDecoder().decode(r.stdout));
      // The graph: one box per non-scope step, the scope as a dashed box, every edge.
      assertEquals(seen.steps, [
        "words.lines",
        "words.pace",
        "words.split",
        "words.count.key",
        "words.count.count",
        "words.out",
      ]);
      assertEquals(seen.scopes, ["count (step)"]);
      assertEquals(seen.edges, 5);
      // Numbers moved while the page was open.
      assertNotEquals(seen.after, seen.before);
      assertMatch(seen.after, /^\d+(\.\d)?k? out · \d+(\.\d)?k?\/s$/);
      assert(seen.epochAfter > seen.epochBefore, `${seen.epochBefore} → ${seen.epochAfter}`);
      assertEquals(seen.status, "running");
      assertMatch(seen.bar, /^\d+(\.\d)?%$/);
      assertMatch(seen.keys, /· 42 keys$/); // w0…w39, x and y
      assertMatch(seen.commit, /^epoch \d+, \d+(\.\d)? (B|KiB), \d+ ms$/);
      // At the end: the whole file.
      assertMatch(seen.input, /100\.0% · /);
      // The screenshots: the viewport's size, different while the flow ran.
      const before = await Deno.readFile(`${dir}/before.png`);
      const after = await Deno.readFile(`${dir}/after.png`);
      assertEquals(pngSize(before), [1280, 680]);
      assertEquals(pngSize(after), [1280, 680]);
      assertNotEquals(before, after);
      const keep = Deno.env.get("WEIR_SCREENSHOT");
      if (keep !== undefined) await Deno.copyFile(`${dir}/after.png`, keep);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
