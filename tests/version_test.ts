import { assertEquals } from "@std/assert";
import { VERSION } from "../mod.ts";

Deno.test("VERSION is the version in deno.json", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assertEquals(
    VERSION,
    version,
    `src/version.ts says ${VERSION} but deno.json says ${version}: set VERSION in src/version.ts to "${version}"`,
  );
});
