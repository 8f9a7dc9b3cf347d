// The examples run as documented: `deno task example`, and the CLI on examples/basic.ts.
import { assertEquals } from "@std/assert";
import { countWords, words } from "../examples/wordcount.ts";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("words() splits on non-letters and keeps inner apostrophes", () => {
  assertEquals(words("The miller's wheel, once — twice!"), [
    "the",
    "miller's",
    "wheel",
    "once",
    "twice",
  ]);
  assertEquals(countWords(["b", "a", "b", "c", "a", "b"]), [["b", 3], ["a", 2], ["c", 1]]);
});

Deno.test("the word-count example prints counts, most frequent first", async () => {
  const r = await run(["run", "--allow-read=examples", "examples/wordcount.ts"]);
  assertEquals([r.code, r.stderr], [0, ""]);
  const lines = r.stdout.trimEnd().split("\n");
  assertEquals(lines.slice(0, 4), ["the 21", "and 7", "river 6", "weir 6"]);
  const text = await Deno.readTextFile("examples/data/river.txt");
  const total = lines.reduce((n, l) => n + Number(l.split(" ")[1]), 0);
  assertEquals(total, text.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length);
});

Deno.test("the CLI runs examples/basic.ts", async () => {
  const r = await run(["run", "-A", "src/cli.ts", "examples/basic.ts"]);
  assertEquals(r, { code: 0, stdout: "1\n9\n25\n49\n81\n", stderr: "" });
});

Deno.test("the windowing example prints counts per user and minute, and the late clicks", async () => {
  const r = await run(["run", "examples/windowed_events.ts"]);
  assertEquals([r.code, r.stderr], [0, ""]);
  assertEquals(r.stdout.trimEnd().split("\n"), [
    "ann 12:00 3 clicks",
    "late: ann clicked at 12:00:20 (window 12:00 had closed)",
    "bob 12:00 1 clicks",
    "bob 12:01 1 clicks",
    "late: bob clicked at 12:00:59 (window 12:00 had closed)",
    "ann 12:01 1 clicks",
    "ann 12:02 1 clicks",
    "bob 12:02 1 clicks",
  ]);
});

Deno.test("the running-average example prints a mean per reading", async () => {
  const r = await run(["run", "examples/running_average.ts"]);
  assertEquals([r.code, r.stderr], [0, ""]);
  assertEquals(r.stdout.trimEnd().split("\n").slice(0, 3), [
    "hall 20.0 -> avg 20.00",
    "attic 31.5 -> avg 31.50",
    "hall 22.0 -> avg 21.00",
  ]);
});

Deno.test("the recovery example resumes: totals restored, new orders only, each line once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_example_recovery_" });
  try {
    const r = await run(["run", "--allow-read", "--allow-write", "examples/recovery.ts", dir]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(r.stdout.trimEnd().split("\n"), [
      "run 1 resumed after epoch 0",
      "run 2 resumed after epoch 1",
      "ann 12.50",
      "ann 20.00",
      "bob 3.00",
      "cid 1.25",
      "bob 10.00",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
