/**
 * `deno task bundle`: writes `dist/weir.js` (ESM, minified, rxjs and idb-keyval included) and
 * its source map `dist/weir.js.map` from `src/browser.ts`, with the code weir loads by
 * `import()` only when needed (the run monitor, when a run is observed) in chunks next to it;
 * checks that nothing in them references `Deno`, and prints the sizes (raw and gzipped) and
 * the bytes each source file contributes to `dist/weir.js` (`--sizes N`: the N largest).
 *
 *   deno task bundle [--sizes 25]
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
  /**
   * Code reached only through a literal `import()` goes into chunks next to `out`, which the
   * page fetches when that `import()` runs (default true). Without it, everything is in `out`.
   */
  readonly splitting?: boolean;
}

/**
 * Bundles `entry` (relative to the repository) for the browser into `out` with
 * `deno bundle --platform=browser --format=esm` (and `--code-splitting`, see
 * {@linkcode BundleOptions.splitting}). Returns the paths written (`out` first, then any
 * chunks; source maps not listed). Throws with deno's output when it fails.
 */
export async function bundle(
  entry: string,
  out: string,
  options: BundleOptions = {},
): Promise<string[]> {
  const split = options.splitting ?? true;
  const outPath = out.startsWith("/") ? out : `${ROOT}${out}`;
  const outDir = outPath.slice(0, outPath.lastIndexOf("/") + 1);
  // Splitting writes into a directory (the entry named after its source): a fresh one next to
  // `out`, whose files are then moved beside it.
  const tmp = split ? await Deno.makeTempDir({ dir: outDir, prefix: ".bundle_" }) : undefined;
  const args = ["bundle", "--quiet", "--platform=browser", "--format=esm"];
  if (tmp === undefined) args.push("-o", outPath);
  else args.push("--code-splitting", "--outdir", tmp);
  if (options.minify) args.push("--minify");
  if (options.sourcemap) args.push("--sourcemap=linked");
  for (const e of options.external ?? []) args.push(`--external=${e}`);
  if (options.importMap) args.push("--import-map", options.importMap);
  args.push(entry);
  try {
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
    const written = [outPath];
    if (tmp !== undefined) {
      const name = entry.slice(entry.lastIndexOf("/") + 1).replace(/\.[jt]sx?$/, ".js");
      const outName = outPath.slice(outDir.length);
      let code: string;
      try {
        code = await Deno.readTextFile(`${tmp}/${name}`);
      } catch (err) {
        throw new Error(`deno bundle of ${entry} succeeded but wrote no ${name}`, { cause: err });
      }
      for await (const f of Deno.readDir(tmp)) {
        if (f.name === name) continue;
        const to = f.name === `${name}.map` ? `${outPath}.map` : `${outDir}${f.name}`;
        if (f.name.endsWith(".map")) {
          // Source paths are relative to the map, which moves up one directory.
          const map = JSON.parse(await Deno.readTextFile(`${tmp}/${f.name}`));
          map.sources = (map.sources as string[]).map((s) => s.replace(/^\.\.\//, ""));
          await Deno.writeTextFile(to, JSON.stringify(map));
        } else {
          await Deno.rename(`${tmp}/${f.name}`, to);
          if (f.name.endsWith(".js")) written.push(to);
        }
      }
      if (options.sourcemap) {
        code = code.replace(
          `//# sourceMappingURL=${name}.map`,
          `//# sourceMappingURL=${outName}.map`,
        );
      }
      await Deno.writeTextFile(outPath, code);
    }
    try {
      await Deno.stat(outPath);
    } catch (err) {
      throw new Error(`deno bundle of ${entry} succeeded but wrote no ${out}`, { cause: err });
    }
    return written;
  } finally {
    if (tmp !== undefined) await Deno.remove(tmp, { recursive: true });
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

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * The bytes of `code` (a bundle) that each source file of its source map `map` produced,
 * largest first: each mapping segment's bytes (up to the next segment or the line's end) go
 * to its source; bytes without a source count as `(unmapped)`. Source paths are as in the map.
 */
export function bytesPerSource(
  code: string,
  map: { sources: string[]; mappings: string },
): Array<[string, number]> {
  const sizes = new Map<string, number>();
  const lines = code.split("\n");
  const mapped = map.mappings.split(";");
  let src = 0;
  for (let li = 0; li < mapped.length; li++) {
    const segs: Array<[number, number]> = [];
    let col = 0;
    for (const seg of mapped[li]!.split(",")) {
      if (seg === "") continue;
      const fields: number[] = [];
      let v = 0;
      let shift = 0;
      for (const ch of seg) {
        const d = BASE64.indexOf(ch);
        v += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          fields.push(v & 1 ? -(v >> 1) : v >> 1);
          v = shift = 0;
        }
      }
      col += fields[0]!;
      if (fields.length > 1) src += fields[1]!;
      segs.push([col, fields.length > 1 ? src : -1]);
    }
    const len = lines[li]?.length ?? 0;
    for (let i = 0; i < segs.length; i++) {
      const [start, s] = segs[i]!;
      const end = i + 1 < segs.length ? segs[i + 1]![0] : len;
      const name = s < 0 ? "(unmapped)" : map.sources[s]!;
      sizes.set(name, (sizes.get(name) ?? 0) + end - start);
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--sizes");
  const top = at < 0 ? 15 : Number(Deno.args[at + 1]);
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  // An unminified build first (one file, chunks included), only to find references to Deno by
  // module.
  const plain = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await bundle("src/browser.ts", plain, { splitting: false });
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
  const files = await bundle("src/browser.ts", "dist/weir.js", { minify: true, sourcemap: true });
  for (const [i, path] of files.entries()) {
    const bytes = await Deno.readFile(path);
    const gz = await gzipSize(bytes);
    console.log(
      `${path.slice(ROOT.length)}: ${(bytes.length / 1024).toFixed(1)} KiB, ` +
        `${(gz / 1024).toFixed(1)} KiB gzipped (${gz} bytes)` +
        (i === 0
          ? `, budget 40 KiB (${40 * 1024} bytes), with dist/weir.js.map`
          : ", loaded by import()"),
    );
  }
  const code = await Deno.readTextFile(`${ROOT}dist/weir.js`);
  const map = JSON.parse(await Deno.readTextFile(`${ROOT}dist/weir.js.map`));
  console.log(`Minified bytes per source file in dist/weir.js (the ${top} largest):`);
  for (const [source, n] of bytesPerSource(code, map).slice(0, top)) {
    // Source paths are relative to the map: made relative to the repository.
    const path = new URL(source, `file://${ROOT}dist/weir.js.map`).pathname;
    const name = path.replace(ROOT, "").replace(/^.*\/npm\/registry\.npmjs\.org\//, "npm:");
    console.log(`${String(n).padStart(8)}  ${name}`);
  }
}
