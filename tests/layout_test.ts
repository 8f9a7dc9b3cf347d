// `deno test` runs every file named `test.ts`, `*_test.ts` or `*.test.ts` (also `.js`, `.tsx`…)
// under the current directory as a test module. Outside tests/ such a file would run its
// top-level code in the suite: scripts/run_tests.ts, named test.ts, started `deno test` from
// within `deno test`, recursively, until the machine ran out of memory.
import { assertEquals } from "@std/assert";

const ROOT = new URL("..", import.meta.url);
const TEST_MODULE = /^(?:test|.+[._]test)\.(?:[cm]?[jt]sx?)$/;
const SKIP = new Set([".git", "node_modules", "tests", ".tmp", "dist"]);

async function testModulesOutsideTests(dir: URL, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      if (SKIP.has(e.name)) continue;
      found.push(
        ...await testModulesOutsideTests(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`),
      );
    } else if (e.isFile && TEST_MODULE.test(e.name)) {
      found.push(`${prefix}${e.name}`);
    }
  }
  return found.sort();
}

Deno.test("no file outside tests/ is named like a test module that deno test would run", async () => {
  assertEquals(await testModulesOutsideTests(ROOT), []);
});

Deno.test("the test-module pattern matches what deno test discovers", () => {
  for (const name of ["test.ts", "a_test.ts", "a.test.ts", "test.js", "b_test.tsx"]) {
    assertEquals(TEST_MODULE.test(name), true, name);
  }
  for (const name of ["run_tests.ts", "testing.ts", "latest.ts", "tests.ts"]) {
    assertEquals(TEST_MODULE.test(name), false, name);
  }
});

// The layout rules of issue #15: no import cycle among weir's modules, and no file in src/ over
// MAX_LINES lines. The import graph is `deno info --json` of every entry point (deno.json's
// exports, src/browser.ts, and any file of src/ or connectors/ they do not reach), with static
// imports both of code and of types (`import type` included); dynamic imports are not edges.

const MAX_LINES = 550;

const ROOT_PATH = decodeURIComponent(ROOT.pathname);

async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) found.push(...await sourceFiles(`${path}/`));
    else if (e.isFile && /\.tsx?$/.test(e.name)) found.push(path);
  }
  return found.sort();
}

/** Static imports (code and types) of the local modules `deno info` reaches from `entry`. */
async function importsFrom(entry: string, graph: Map<string, Set<string>>): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT_PATH,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  interface Dep {
    code?: { specifier?: string };
    type?: { specifier?: string };
    isDynamic?: boolean;
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: Dep[] }[];
  };
  const local = (specifier: string | undefined): string | undefined =>
    specifier?.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : undefined;
  for (const m of info.modules) {
    const from = local(m.specifier);
    if (from === undefined) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const dep of m.dependencies ?? []) {
      if (dep.isDynamic) continue;
      for (const to of [local(dep.code?.specifier), local(dep.type?.specifier)]) {
        if (to !== undefined) edges.add(to);
      }
    }
  }
}

/** The strongly connected components with a cycle (Tarjan), each as its sorted files. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a.join(" ").localeCompare(b.join(" ")));
}

/** Each cycle as `a → b → … → a`, through the files of its component. */
function describeCycle(files: string[], graph: Map<string, Set<string>>): string {
  const members = new Set(files);
  const start = files[0]!;
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = from.get(x)!) path.splice(1, 0, x);
        return [...path, start].join(" → ");
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return files.join(", ");
}

Deno.test("no import cycle among weir's modules", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    exports: Record<string, string>;
  };
  const entries = new Set(
    [...Object.values(config.exports), "./src/browser.ts"].map((p) => p.replace(/^\.\//, "")),
  );
  const graph = new Map<string, Set<string>>();
  await Promise.all([...entries].map((e) => importsFrom(e, graph)));
  // Files no entry reaches statically (a Worker's module, a dynamic import): roots of their own.
  const unreached = [...await sourceFiles("src/"), ...await sourceFiles("connectors/")]
    .filter((f) => !graph.has(f));
  await Promise.all(unreached.map((f) => importsFrom(f, graph)));
  const found = cycles(graph).map((c) => describeCycle(c, graph));
  assertEquals(found, [], "import cycles (break each: move what both sides need down)");
});

Deno.test(`no file in src/ has more than ${MAX_LINES} lines`, async () => {
  const long: string[] = [];
  for (const path of await sourceFiles("src/")) {
    const text = await Deno.readTextFile(new URL(path, ROOT));
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > MAX_LINES) long.push(`${path}: ${lines}`);
  }
  assertEquals(long, [], `files over ${MAX_LINES} lines: split them by idea`);
});
