/**
 * `deno task serve`: builds the browser demo and serves it on a fixed 127.0.0.1 port (a fixed
 * origin, so the demo's IndexedDB store is found again after a restart).
 *
 *   deno task serve [--port 8417]
 *
 * Writes `dist/weir.js` (as `deno task bundle` does), `dist/demo.js` (examples/browser/demo.ts,
 * with `@weir/weir…` left to the page's import map) and `dist/index.html`.
 *
 * @module
 */
import { bundle, ROOT } from "./bundle.ts";
import { serveStatic } from "./_static.ts";

/** The demo's port. */
export const DEMO_PORT = 8417;

/** The specifiers the demo page's import map resolves to dist/weir.js. */
export const WEIR_SPECIFIERS: string[] = [
  "@weir/weir",
  "@weir/weir/recovery/idb",
];

/** Builds the demo into `dir` (relative to the repository, or absolute). */
export async function buildDemo(dir: string): Promise<void> {
  await Deno.mkdir(dir.startsWith("/") ? dir : `${ROOT}${dir}`, { recursive: true });
  await bundle("src/browser.ts", `${dir}/weir.js`, { minify: true, sourcemap: true });
  await bundle("examples/browser/demo.ts", `${dir}/demo.js`, {
    sourcemap: true,
    external: WEIR_SPECIFIERS,
  });
  await Deno.copyFile(
    `${ROOT}examples/browser/index.html`,
    `${dir.startsWith("/") ? dir : `${ROOT}${dir}`}/index.html`,
  );
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--port");
  const port = i < 0 ? DEMO_PORT : Number(Deno.args[i + 1]);
  await buildDemo("dist");
  const server = await serveStatic(`${ROOT}dist`, port);
  console.log(`weir browser demo: http://127.0.0.1:${server.addr.port}/`);
}
