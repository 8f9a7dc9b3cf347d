// The browser entries type-check against the browser's library alone (DOM + ESNext, no Deno
// namespace), as STYLE.md asks of browser-safe modules: a `Deno` reference anywhere in their
// module graph, even in code a bundle would drop, fails here. (~3 s: a type check.)
import { assertEquals } from "@std/assert";
import { ROOT } from "../../scripts/bundle.ts";

const ENTRIES = [
  "mod.ts",
  "src/testing/mod.ts",
  "src/serde/mod.ts",
  "src/recovery/idb.ts",
  "src/browser.ts",
];

Deno.test("browser-safe: the browser entries type-check with the DOM library and without Deno's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_dom_check_" });
  try {
    // deno.json's compiler options and imports (made absolute), with the browser's library.
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    const imports: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.imports as Record<string, string>)) {
      imports[k] = v.startsWith("./") ? new URL(v, `file://${ROOT}`).href : v;
    }
    const domConfig = {
      compilerOptions: { ...config.compilerOptions, lib: ["dom", "dom.iterable", "esnext"] },
      imports,
    };
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(domConfig));
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", `${dir}/deno.json`, ...ENTRIES],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals({ code, errors: new TextDecoder().decode(stderr) }, { code: 0, errors: "" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
