import { assertEquals } from "@std/assert";
import { visualize } from "../../mod.ts";
import { wordcount } from "../../examples/wordcount.ts";
import { chromiumPath } from "../observe/_browser.ts";
import { shop } from "./_shop_flow.ts";

Deno.test({
  name:
    "visualize: the Mermaid text renders with Mermaid itself (wordcount; branch, merge, join, window)",
  ignore: chromiumPath() === undefined,
  async fn() {
    const file = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const texts = [visualize(wordcount("words.txt")), visualize(shop())];
      await Deno.writeTextFile(file, JSON.stringify(texts));
      const driver = new URL("../observe/_mermaid_driver.ts", import.meta.url).pathname;
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", driver, file],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
      const [words, shopped] = JSON.parse(new TextDecoder().decode(r.stdout));
      assertEquals(words.error, undefined);
      assertEquals(words.nodes, [
        "lines (input)",
        "split (flatMap)",
        "key (keyOn)",
        "count (statefulBatch)",
        "all (keyOn)",
        "gather (statefulBatch)",
        "rank (flatMap)",
        "pipe_1 (pipe)",
        "out (output)",
      ]);
      assertEquals(words.clusters, ["count (step)"]);
      assertEquals(words.edgeLabels, Array(8).fill("down"));
      assertEquals(shopped.error, undefined);
      assertEquals(shopped.nodes.length, 19);
      assertEquals(shopped.clusters.sort(), ["joined (join)", "per_min (countWindow)"]);
      assertEquals(shopped.edgeLabels.filter((l: string) => l !== "down"), ["trues", "falses"]);
    } finally {
      await Deno.remove(file);
    }
  },
});
