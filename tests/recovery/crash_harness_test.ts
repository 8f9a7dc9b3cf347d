// The crash harness's own pieces: the input is a pure function of the seed, and the output
// comparison counts lost, duplicated and unexpected lines and finds the first difference.
import { assertEquals, assertNotEquals } from "@std/assert";
import { compareOutputs, generateInput, keyName, prng } from "./crash_harness.ts";
import { parseLine } from "./fixtures/crash_flow.ts";

Deno.test("crash harness: the input depends on the seed only", () => {
  const a = generateInput(7, 5, 37);
  assertEquals(generateInput(7, 5, 37), a);
  assertNotEquals(generateInput(8, 5, 37), a);
  const lines = a.split("\n");
  assertEquals(lines.length, 6);
  assertEquals(lines[5], "");
  assertEquals(lines.slice(0, 5).map((l) => parseLine(l).seq), [0, 1, 2, 3, 4]);
  const r = prng(1);
  const first = [r(), r()];
  const again = prng(1);
  assertEquals([again(), again()], first);
  // Some keys take several bytes per character.
  assertEquals([keyName(0), keyName(1), keyName(2), keyName(3)], ["k0", "k1é", "k2日本", "k3🦀"]);
  assertEquals(keyName(9), "k9日本");
});

Deno.test("crash harness: compareOutputs reports lost, duplicated and unexpected lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_crash_cmp_" });
  try {
    const exp = `${dir}/expected`;
    const act = `${dir}/actual`;
    await Deno.mkdir(`${exp}/sub`, { recursive: true });
    await Deno.mkdir(`${act}/sub`, { recursive: true });
    await Deno.writeTextFile(`${exp}/same.txt`, "a\nb\n");
    await Deno.writeTextFile(`${act}/same.txt`, "a\nb\n");
    // b duplicated, c lost, a torn last line.
    await Deno.writeTextFile(`${exp}/sub/x`, "a\nb\nc\nd\n");
    await Deno.writeTextFile(`${act}/sub/x`, "a\nb\nb\nd\nd");
    await Deno.writeTextFile(`${exp}/missing.txt`, "m\n");
    await Deno.writeTextFile(`${act}/extra.txt`, "e\n");
    assertEquals(await compareOutputs(exp, act), [
      {
        file: "extra.txt",
        lost: 0,
        duplicated: 0,
        unexpected: 1,
        firstDifference: { line: 1, expected: "⟨file missing from the reference⟩", actual: "e" },
      },
      {
        file: "missing.txt",
        lost: 1,
        duplicated: 0,
        unexpected: 0,
        firstDifference: { line: 1, expected: "m", actual: "⟨file missing⟩" },
      },
      {
        file: "sub/x",
        lost: 1,
        duplicated: 1,
        unexpected: 1,
        firstDifference: { line: 3, expected: "c", actual: "b" },
      },
    ]);
    assertEquals(await compareOutputs(exp, exp), []);
    // Byte for byte: two invalid UTF-8 bytes decode to the same text but differ.
    await Deno.writeFile(`${exp}/bin`, new Uint8Array([0xff, 0x0a]));
    await Deno.writeFile(`${act}/bin`, new Uint8Array([0xfe, 0x0a]));
    assertEquals((await compareOutputs(exp, act)).find((d) => d.file === "bin"), {
      file: "bin",
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      firstDifference: { line: 0, expected: "⟨bytes not valid UTF-8⟩", actual: null },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
