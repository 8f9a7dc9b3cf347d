// The browser-safe core: what `@weir/weir`, `@weir/weir/testing` and
// `@weir/weir/recovery/idb` reach must not use `Deno` (browsers have none), and the browser
// bundle (`deno task bundle`) stays within its size budget. Needs no browser.
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { bundle, bytesPerSource, denoReferences, gzipSize, ROOT } from "../../scripts/bundle.ts";

/** The browser entry points: each is bundled for the browser and searched for `Deno`. */
const ENTRIES = [
  "mod.ts",
  "src/testing/mod.ts",
  "src/serde/mod.ts",
  "src/recovery/idb.ts",
  "src/browser.ts",
];

/**
 * The gzipped size budget of dist/weir.js (issue #14). The parallel runtime's single-worker
 * plumbing had pushed it to 40.8 KiB; its multi-worker option checks and exchange wiring now
 * live in the modules only several workers load, and the run monitor is a chunk loaded only
 * when a run is observed (README, "The bundle").
 */
const BUDGET = 40 * 1024;

for (const entry of ENTRIES) {
  Deno.test(`browser-safe: the browser bundle of ${entry} does not reference Deno`, async () => {
    const out = await Deno.makeTempFile({ suffix: ".js" });
    try {
      // One file: code loaded by import() (a chunk of dist/weir.js) is searched too.
      await bundle(entry, out, { splitting: false });
      // Each hit: the module (from esbuild's `// path` comments) and the line.
      assertEquals(denoReferences(await Deno.readTextFile(out)), []);
    } finally {
      await Deno.remove(out);
    }
  });
}

/** The Deno-only modules: the browser entries must not even import them. */
const DENO_ONLY =
  /^(connectors\/|src\/cli\.ts$|src\/recovery\/deno_(fs|kv)\.ts$|src\/serde\/avro\.ts$)/;

for (const entry of ENTRIES) {
  Deno.test(`browser-safe: ${entry} imports no Deno-only module`, async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: { specifier: string }[];
    };
    const local = graph.modules.map((m) => m.specifier)
      .filter((s) => s.startsWith(`file://${ROOT}`))
      .map((s) => s.slice(`file://${ROOT}`.length));
    assert(local.includes(entry), local.join(" "));
    assertEquals(local.filter((m) => DENO_ONLY.test(m) || m.startsWith("node:")), []);
    // npm packages in the graph: only the browser-safe ones.
    const npm = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith("npm:"));
    assertEquals(npm.filter((s) => !/^npm:\/?(rxjs|idb-keyval)@/.test(s)), []);
  });
}

Deno.test("browser-safe: a bundled module that uses Deno is named with its line", () => {
  const code = [
    "// src/a.ts",
    "const a = 1;",
    "// src/recovery/deno_fs.ts",
    "const f = await Deno.open(path);",
    "// src/b.ts",
    'const s = "DenoKV is no match"; // not the global',
  ].join("\n");
  assertEquals(denoReferences(code), [[
    "src/recovery/deno_fs.ts",
    "const f = await Deno.open(path);",
  ]]);
});

/** Bundles src/browser.ts as `deno task bundle` does into a temporary directory. */
async function withDistBundle(
  fn: (dir: string, files: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_bundle_" });
  try {
    await fn(
      dir,
      await bundle("src/browser.ts", `${dir}/weir.js`, { minify: true, sourcemap: true }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("browser-safe: dist/weir.js (minified, with rxjs and idb-keyval) is at most 40 KiB gzipped", async () => {
  await withDistBundle(async (dir) => {
    assertLessOrEqual(await gzipSize(await Deno.readFile(`${dir}/weir.js`)), BUDGET);
  });
});

Deno.test("browser-safe: dist/weir.js holds no multi-worker, monitor, fused-window or lazy-resume code; the monitor is a chunk it imports", async () => {
  await withDistBundle(async (dir, files) => {
    const code = await Deno.readTextFile(`${dir}/weir.js`);
    const map = JSON.parse(await Deno.readTextFile(`${dir}/weir.js.map`));
    // Source paths are relative to the map: made relative to the repository.
    const sources = bytesPerSource(code, map)
      .map(([s]) => new URL(s, `file://${dir}/weir.js.map`).pathname.replace(ROOT, ""));
    // The runtime's and the observers' modules in the entry: the single-worker ones only.
    assertEquals(sources.filter((s) => /^src\/(runtime|observe)\//.test(s)).sort(), [
      "src/runtime/build.ts",
      "src/runtime/channel.ts",
      "src/runtime/checkpoint.ts",
      "src/runtime/input_node.ts",
      "src/runtime/output_node.ts",
      "src/runtime/owners.ts",
      "src/runtime/run.ts",
      "src/runtime/scheduler.ts",
      "src/runtime/step_subscriber.ts",
      "src/runtime/util.ts",
      "src/runtime/worker_runtime.ts",
    ]);
    // Nor the window operators' fused paths, nor lazy resume (the general paths do the same).
    assertEquals(
      sources.filter((s) =>
        /^src\/windowing\/(_tumbling_event_windows|_session_event_windows|fused_drivers)\.ts$/
          .test(s) || s === "src/recovery/lazy_state.ts"
      ),
      [],
    );
    // What run() checks only with workers > 1 is not in it either.
    for (
      const text of ["needs options.module", "cannot be passed with workers", "guard the module"]
    ) {
      assert(!code.includes(text), `dist/weir.js holds "${text}"`);
    }
    // The monitor: one chunk next to it, imported by its file name.
    assertEquals(files.length, 2, files.join(" "));
    const chunk = files[1]!.slice(dir.length + 1);
    assert(/^monitor-\w+\.js$/.test(chunk), chunk);
    assert(code.includes(`import("./${chunk}")`), `dist/weir.js does not import ${chunk}`);
  });
});

Deno.test("browser-safe: bytesPerSource gives each source the bytes of its mapping segments", () => {
  // Line 1: "abcdef" with segments at column 0 (source 0) and 4 (source 1); line 2: "xyz" at
  // column 1 (source 0). Column 0 of line 2 has no segment: nothing counts it.
  const map = { sources: ["a.ts", "b.ts"], mappings: "AAAA,ICAA;CDAA" };
  assertEquals(bytesPerSource("abcdef\nxyz", map), [["a.ts", 6], ["b.ts", 2]]);
});

Deno.test("browser-safe: dist/weir.js's entry exports mod.ts's API less visualize/flowGraph, plus idbBackend", async () => {
  const core = Object.keys(await import("../../mod.ts")).sort();
  const idb = Object.keys(await import("../../src/recovery/idb.ts"));
  const browser = Object.keys(await import("../../src/browser.ts")).sort();
  const left = new Set(["visualize", "flowGraph"]);
  assertEquals(browser, [...core.filter((n) => !left.has(n)), ...idb].sort());
});
