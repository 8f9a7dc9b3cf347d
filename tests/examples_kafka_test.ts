// examples/kafka_wordcount.ts as documented (tests/examples_test.ts's style): copied into a
// scratch project that links this checkout, run with exactly the README's permissions against
// the test broker (WEIR_KAFKA_BROKERS; `deno task test` starts one), twice over one store.
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "@std/assert";
import { words } from "../examples/kafka_wordcount.ts";
import { brokers, createTopic, kafkaTest, produce, readAll } from "./connectors/_kafka.ts";

const CHECKOUT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

Deno.test("kafka_wordcount.ts words() keeps inner apostrophes", () => {
  assertEquals(words("The river's bend, the WEIR!"), ["the", "river's", "bend", "the", "weir"]);
});

kafkaTest(
  "kafka_wordcount.ts counts words exactly once, and a second run adds nothing",
  async () => {
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "weir kafka example " }));
    const project = `${root}/my project`;
    try {
      const readme = await Deno.readTextFile(`${CHECKOUT}/README.md`);
      const install = readme.slice(readme.indexOf("\n## Install\n"));
      const config = JSON.parse(/```json\n([\s\S]*?)```/.exec(install)![1]!);
      config.links = [CHECKOUT];
      await Deno.mkdir(`${project}/examples`, { recursive: true });
      await Deno.writeTextFile(`${project}/deno.json`, JSON.stringify(config, null, 2));
      await Deno.copyFile(
        `${CHECKOUT}/examples/kafka_wordcount.ts`,
        `${project}/examples/kafka_wordcount.ts`,
      );
      const input = await createTopic("lines", 2);
      const output = await createTopic("word-counts", 1);
      const lines = ["The weir and the river", "the river's bend", "a weir"];
      await produce(input, lines.map((l, i) => [null, l, i % 2] as [null, string, number]));
      const broker = brokers()[0]!;
      const dir = "work dir";
      await Deno.mkdir(`${project}/${dir}`);
      const runExample = async () => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            // The README's permissions, with the test broker's address for 127.0.0.1:9092.
            `--allow-net=${broker}`,
            "--allow-env=NODE_ENV,KAFKAJS_*",
            `--allow-read=${dir}`,
            `--allow-write=${dir}`,
            "examples/kafka_wordcount.ts",
            dir,
            "--brokers",
            broker,
            "--input",
            input,
            "--output",
            output,
          ],
          cwd: project,
          env: { NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const dec = new TextDecoder();
        assertEquals([out.code, dec.decode(out.stderr)], [0, ""]);
        return dec.decode(out.stdout).trimEnd().split("\n");
      };
      assertEquals(await runExample(), ["resumed after epoch 0", "wrote 10 counts"]);
      const second = await runExample();
      assert(/^resumed after epoch [1-9]\d*$/.test(second[0]!), second[0]);
      assertEquals(second[1], "wrote 0 counts");
      // Every count once: per word 1..n, n its number of occurrences.
      const back = (await readAll(output)).map((r) => `${r.key}:${r.value}`).sort();
      const expected: string[] = [];
      const counts = new Map<string, number>();
      for (const w of lines.flatMap(words)) {
        counts.set(w, (counts.get(w) ?? 0) + 1);
        expected.push(`${w}:${counts.get(w)}`);
      }
      assertEquals(back, expected.sort());
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
