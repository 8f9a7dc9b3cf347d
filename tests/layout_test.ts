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
