// src/windowing's shape: no import cycle through any of its files (type imports and re-exports
// included) and no file over 500 lines, so each file holds one idea.
import { assertEquals } from "@std/assert";

const SRC = new URL("../../src/", import.meta.url);
const WINDOWING = new URL("windowing/", SRC);
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.{1,2}\/[^"]+)"|(?:^|\n)\s*import\s*"(\.{1,2}\/[^"]+)"/g;

/** The relative imports and re-exports of `file` (type-only ones included), as URLs. */
async function localImports(file: URL): Promise<URL[]> {
  const text = await Deno.readTextFile(file);
  return [...text.matchAll(IMPORT)].map((m) => new URL(m[1] ?? m[2]!, file));
}

async function windowingFiles(): Promise<URL[]> {
  const files: URL[] = [];
  for await (const e of Deno.readDir(WINDOWING)) {
    if (e.isFile && e.name.endsWith(".ts")) files.push(new URL(e.name, WINDOWING));
  }
  return files.sort((a, b) => a.href.localeCompare(b.href));
}

/** Every import cycle (as src-relative paths) reachable from `roots`, each reported once. */
async function cycles(roots: URL[]): Promise<string[]> {
  const edges = new Map<string, string[]>();
  const load = async (href: string): Promise<string[]> => {
    let out = edges.get(href);
    if (out === undefined) {
      out = (await localImports(new URL(href))).map((u) => u.href);
      edges.set(href, out);
    }
    return out;
  };
  const found = new Set<string>();
  const done = new Set<string>();
  const visit = async (href: string, path: string[]): Promise<void> => {
    const at = path.indexOf(href);
    if (at >= 0) {
      const cycle = path.slice(at).map((h) => h.slice(SRC.href.length));
      // Rotate to the smallest name, so one cycle found from two files is reported once.
      const start = cycle.indexOf([...cycle].sort()[0]!);
      found.add([...cycle.slice(start), ...cycle.slice(0, start)].join(" → "));
      return;
    }
    if (done.has(href)) return;
    for (const next of await load(href)) await visit(next, [...path, href]);
    done.add(href);
  };
  for (const root of roots) await visit(root.href, []);
  return [...found].sort();
}

Deno.test("no import cycle runs through src/windowing (type imports and re-exports included)", async () => {
  const through = (await cycles(await windowingFiles())).filter((c) => c.includes("windowing/"));
  assertEquals(through, []);
});

Deno.test("the cycle finder finds a cycle made of type imports", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.ts`,
      'import type { B } from "./b.ts";\nexport type A = B;\n',
    );
    await Deno.writeTextFile(`${dir}/b.ts`, 'export type { A as B } from "./a.ts";\n');
    const found = await cycles([new URL(`file://${dir}/a.ts`)]);
    assertEquals(found.length, 1);
    assertEquals(found[0]!.split(" → ").map((p) => p.slice(p.lastIndexOf("/") + 1)), [
      "a.ts",
      "b.ts",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no file in src/windowing is over 500 lines", async () => {
  const long: string[] = [];
  for (const file of await windowingFiles()) {
    const lines = (await Deno.readTextFile(file)).split("\n").length - 1;
    if (lines > 500) long.push(`${file.href.slice(WINDOWING.href.length)}: ${lines} lines`);
  }
  assertEquals(long, []);
});
