// deno-lint-ignore-file no-explicit-any
// Renders Mermaid texts with the real Mermaid library in headless Chromium (run as a
// subprocess with -A by visualize_render_test.ts).
//   deno run -A tests/observe/_mermaid_driver.ts <file holding a JSON array of texts>
// Prints a JSON array: per text, the rendered SVG's node, cluster and edge-label texts, or
// the error Mermaid threw.
import { launchChromium } from "./_browser.ts";

/** The local path of the mermaid npm package, from `deno info`. */
async function mermaidDir(): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "npm:mermaid@^11.4.0"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(r.stdout));
  const key = Object.keys(info.npmPackages).find((k) => k.startsWith("mermaid@"));
  if (key === undefined) throw new Error("Cannot find the mermaid package in deno info's output");
  return info.npmPackages[key].localPath;
}

const texts: string[] = JSON.parse(await Deno.readTextFile(Deno.args[0]!));
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><body><div id=out></div></body></html>");
  await page.addScriptTag({ path: `${await mermaidDir()}/dist/mermaid.min.js` });
  const results = [];
  for (const [i, text] of texts.entries()) {
    results.push(
      await page.evaluate(async ([text, i]) => {
        const g = globalThis as any;
        g.mermaid.initialize({ startOnLoad: false, htmlLabels: false });
        try {
          const { svg } = await g.mermaid.render(`graph${i}`, text);
          const div = g.document.getElementById("out");
          div.innerHTML = svg;
          const texts = (sel: string) =>
            [...div.querySelectorAll(sel)].map((e: any) => e.textContent.trim());
          return {
            nodes: texts("g.node"),
            clusters: texts("g.cluster-label"),
            edgeLabels: texts("g.edgeLabel").filter((t: string) => t !== ""),
          };
        } catch (err) {
          return { error: String((err as Error).message ?? err) };
        }
      }, [text, i] as const),
    );
  }
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
}
