// The examples run as documented, copied into a project of one's own: a scratch project outside
// the checkout (in a directory whose name has a space) with the deno.json of the README's
// Install section, linking this checkout; each example runs there with the permissions the
// README's Examples table grants it. Also `deno task example` and the CLI task in the checkout.
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { rank, words } from "../examples/wordcount.ts";
import { type Ran, runDeno } from "./_deno_process.ts";

const CHECKOUT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

function deno(args: string[], cwd = CHECKOUT): Promise<Ran> {
  return runDeno(args, cwd);
}

/** Asserts a clean run and returns its lines. */
function lines(r: Ran): string[] {
  assertEquals([r.code, r.stderr], [0, ""]);
  return r.stdout.trimEnd().split("\n");
}

/** The first `json` block of the README's Install section: the user's deno.json. */
async function installDenoJson(): Promise<{ links: string[] }> {
  const readme = await Deno.readTextFile(`${CHECKOUT}/README.md`);
  const install = readme.slice(readme.indexOf("\n## Install\n"));
  const block = /```json\n([\s\S]*?)```/.exec(install);
  assert(block !== null, "README.md has no json block in its Install section");
  return JSON.parse(block[1]!);
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test("words() splits on non-letters and keeps inner apostrophes; rank() orders counts", () => {
  assertEquals(words("The miller's wheel, once — twice!"), [
    "the",
    "miller's",
    "wheel",
    "once",
    "twice",
  ]);
  assertEquals(rank([["a", 2], ["c", 1], ["b", 3], ["d", 2]]), [
    ["b", 3],
    ["a", 2],
    ["d", 2],
    ["c", 1],
  ]);
});

Deno.test("deno task example prints the word counts, most frequent first", async () => {
  const out = lines(await deno(["task", "-q", "example"]));
  assertEquals(out.slice(0, 4), ["the 21", "and 7", "river 6", "weir 6"]);
});

Deno.test("the CLI task runs examples/basic.ts and examples/wordcount.ts", async () => {
  assertEquals(lines(await deno(["task", "-q", "run", "examples/basic.ts"])), [
    "1",
    "9",
    "25",
    "49",
    "81",
  ]);
  const counts = lines(await deno(["task", "-q", "run", "examples/wordcount.ts"]));
  assertEquals(counts.slice(0, 2), ["the 21", "and 7"]);
});

Deno.test("every example runs from a scratch project that links the checkout", async (t) => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "weir examples " }));
  const project = `${root}/my project`;
  try {
    const config = await installDenoJson();
    config.links = [CHECKOUT];
    await Deno.mkdir(project);
    await Deno.writeTextFile(`${project}/deno.json`, JSON.stringify(config, null, 2));
    await copyDir(`${CHECKOUT}/examples`, `${project}/examples`);
    const run = (...args: string[]) => deno(["run", ...args], project);

    await t.step("wordcount.ts: counts, most frequent first, from a path with spaces", async () => {
      const out = lines(await run("--allow-read=examples", "examples/wordcount.ts"));
      assertEquals(out.slice(0, 4), ["the 21", "and 7", "river 6", "weir 6"]);
      assertEquals(out.length, 57);
      const text = await Deno.readTextFile(`${project}/examples/data/river.txt`);
      const total = out.reduce((n, l) => n + Number(l.split(" ")[1]), 0);
      assertEquals(total, text.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length);
      // Any file, with read on it alone.
      await Deno.writeTextFile(`${project}/my text.txt`, "b a b\nc b a\n");
      assertEquals(
        lines(await run("--allow-read=my text.txt", "examples/wordcount.ts", "my text.txt")),
        [
          "b 3",
          "a 2",
          "c 1",
        ],
      );
    });

    await t.step(
      "parallel_wordcount.ts: the word count on 2 workers prints the same lines",
      async () => {
        const single = lines(await run("--allow-read=examples", "examples/wordcount.ts"));
        // run loads weir's parallel runtime, the workers weir's worker module and wordcount.ts:
        // read on weir's files and the examples.
        const out = lines(
          await run(`--allow-read=examples,${CHECKOUT}`, "examples/parallel_wordcount.ts"),
        );
        assertEquals(out, single);
        const denied = await run("--allow-read=examples", "examples/parallel_wordcount.ts");
        assertEquals(denied.code, 1);
        assertStringIncludes(
          denied.stderr,
          `Error: Cannot load weir's parallel runtime: Requires read access to ` +
            `"${CHECKOUT}/src/runtime/parallel.ts", run again with the --allow-read flag (with ` +
            `workers > 1, weir loads parallel.ts, and each worker weir's worker_main.ts and the ` +
            `flow's module: grant read access to weir's files and the module)`,
        );
      },
    );

    await t.step("basic.ts: directly, and through the CLI with read on the project", async () => {
      assertEquals(lines(await run("examples/basic.ts")), ["1", "9", "25", "49", "81"]);
      const cli = await run(
        `--allow-read=.,${CHECKOUT}`,
        "jsr:@weir/weir/cli",
        "examples/basic.ts",
      );
      assertEquals(lines(cli), ["1", "9", "25", "49", "81"]);
      // Without read on the linked checkout, the flow module's imports cannot be loaded.
      const denied = await run("--allow-read=.", "jsr:@weir/weir/cli", "examples/basic.ts");
      assertEquals(denied.code, 1);
      assertStringIncludes(
        denied.stderr,
        `weir: Could not import examples/basic.ts: Requires read access to "${CHECKOUT}/mod.ts", ` +
          "run again with the --allow-read flag",
      );
    });

    await t.step(
      "windowed_events.ts: counts per user and minute, and the late clicks",
      async () => {
        assertEquals(lines(await run("examples/windowed_events.ts")), [
          "ann 12:00 3 clicks",
          "late: ann clicked at 12:00:20 (window 12:00 had closed)",
          "bob 12:00 1 clicks",
          "bob 12:01 1 clicks",
          "late: bob clicked at 12:00:59 (window 12:00 had closed)",
          "ann 12:01 1 clicks",
          "ann 12:02 1 clicks",
          "bob 12:02 1 clicks",
        ]);
      },
    );

    await t.step("running_average.ts: a mean per reading", async () => {
      assertEquals(lines(await run("examples/running_average.ts")), [
        "hall 20.0 -> avg 20.00",
        "attic 31.5 -> avg 31.50",
        "hall 22.0 -> avg 21.00",
        "cellar 12.3 -> avg 12.25",
        "attic 29.5 -> avg 30.50",
        "hall 21.5 -> avg 21.17",
        "cellar 12.8 -> avg 12.50",
      ]);
    });

    await t.step("join_enrich.ts: every order with its customer, updates included", async () => {
      assertEquals(lines(await run("examples/join_enrich.ts")), [
        "o1 ann 12.50 -> Ann (Oslo)",
        "o2 bob 3.00 -> Bob (Bergen)",
        "o3 ann 7.50 -> Ann (Oslo)",
        "o3 ann 7.50 -> Ann (Trondheim)",
        "o4 ann 20.00 -> Ann (Trondheim)",
        "o5 cid 1.25 -> Cid (Tromsø)",
      ]);
    });

    await t.step(
      "csv_to_jsonl.ts: orders as JSON lines, the bad row as a dead letter",
      async () => {
        const dir = "out dir";
        await Deno.mkdir(`${project}/${dir}`);
        const out = await run(
          "--allow-read=examples/data",
          `--allow-write=${dir}`,
          "examples/csv_to_jsonl.ts",
          dir,
        );
        assertEquals(lines(out), [
          "rejected: examples/data/orders.csv line 6: Invalid Record Length: columns length is " +
          "4, got 2",
        ]);
        const orders = await Deno.readTextFile(`${project}/${dir}/orders.jsonl`);
        assertEquals(orders.trimEnd().split("\n").map((l) => JSON.parse(l)), [
          { id: 1, customer: "Smith, Ada", cents: 1250, note: null },
          { id: 2, customer: "Bob", cents: 300, note: 'said "hi"' },
          { id: 3, customer: "Cid", cents: 725, note: "two\nlines" },
          { id: 5, customer: "Eve", cents: 2000, note: "last" },
        ]);
        assertEquals(JSON.parse(await Deno.readTextFile(`${project}/${dir}/rejected.jsonl`)), {
          stepId: "csv_to_jsonl.orders",
          raw: "4,Dee\n",
          reason: "Invalid Record Length: columns length is 4, got 2",
          path: "examples/data/orders.csv",
          line: 6,
        });
        // Without write on the output directory the run fails, naming the file.
        const denied = await run("--allow-read=examples/data", "examples/csv_to_jsonl.ts", dir);
        assertEquals(denied.code, 1);
        assertStringIncludes(denied.stderr, `Requires write access to "${dir}/orders.jsonl"`);
      },
    );

    await t.step("recovery.ts: resumes with totals restored, each line once", async () => {
      const dir = "work dir";
      await Deno.mkdir(`${project}/${dir}`);
      const out = await run(
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        "examples/recovery.ts",
        dir,
      );
      assertEquals(lines(out), [
        "run 1 resumed after epoch 0",
        "run 2 resumed after epoch 1",
        "ann 12.50",
        "ann 20.00",
        "bob 3.00",
        "cid 1.25",
        "bob 10.00",
      ]);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
