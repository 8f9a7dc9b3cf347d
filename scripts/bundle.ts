/**
 * `deno task bundle`: writes `dist/weir.js` (ESM, minified, rxjs and idb-keyval included) and
 * its source map `dist/weir.js.map` from `src/browser.ts`, checks that nothing in it
 * references `Deno`, and prints its size (raw and gzipped).
 *
 *   deno task bundle
 *
 * @module
 */

/** Where the repository is. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** Options of {@linkcode bundle}. */
export interface BundleOptions {
  readonly minify?: boolean;
  readonly sourcemap?: boolean;
  /** Specifiers left as imports (resolved by the page's import map). */
  readonly external?: readonly string[];
  /** An import map replacing deno.json's imports. */
  readonly importMap?: string;
}

/**
 * Bundles `entry` (relative to the repository) for the browser into `out` with
 * `deno bundle --platform=browser --format=esm`. Throws with deno's output when it fails.
 */
export async function bundle(entry: string, out: string, options: BundleOptions = {}) {
  const args = ["bundle", "--quiet", "--platform=browser", "--format=esm", "-o", out];
  if (options.minify) args.push("--minify");
  if (options.sourcemap) args.push("--sourcemap=linked");
  for (const e of options.external ?? []) args.push(`--external=${e}`);
  if (options.importMap) args.push("--import-map", options.importMap);
  args.push(entry);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const dec = new TextDecoder();
    throw new Error(
      `deno bundle of ${entry} into ${out} failed (exit ${code}): ` +
        `${dec.decode(stderr)}${dec.decode(stdout)}`.trim(),
    );
  }
  try {
    await Deno.stat(out.startsWith("/") ? out : `${ROOT}${out}`);
  } catch (err) {
    throw new Error(`deno bundle of ${entry} succeeded but wrote no ${out}`, { cause: err });
  }
}

/**
 * Where a bundle references the global `Deno`: `[module, line]` pairs, the module taken from
 * the `// path` comment esbuild writes before each module's code (unminified bundles).
 */
export function denoReferences(code: string): Array<[string, string]> {
  const hits: Array<[string, string]> = [];
  let module = "(unknown module)";
  for (const line of code.split("\n")) {
    const m = /^\/\/ (\S+\.[jt]sx?)$/.exec(line);
    if (m) module = m[1]!;
    else if (/\bDeno\b/.test(line)) hits.push([module, line.trim()]);
  }
  return hits;
}

/** Gzipped size of `bytes` (level of CompressionStream's gzip). */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

if (import.meta.main) {
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  // An unminified build first, only to find references to Deno by module.
  const plain = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await bundle("src/browser.ts", plain);
    const hits = denoReferences(await Deno.readTextFile(plain));
    if (hits.length > 0) {
      console.error(
        `The browser bundle references Deno, which browsers do not have:\n` +
          hits.map(([m, l]) => `  ${m}: ${l}`).join("\n"),
      );
      Deno.exit(1);
    }
  } finally {
    await Deno.remove(plain);
  }
  await bundle("src/browser.ts", "dist/weir.js", { minify: true, sourcemap: true });
  const bytes = await Deno.readFile(`${ROOT}dist/weir.js`);
  const gz = await gzipSize(bytes);
  console.log(
    `dist/weir.js: ${(bytes.length / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB ` +
      `gzipped (budget 40 KiB, ceiling 41 KiB), with dist/weir.js.map`,
  );
}
