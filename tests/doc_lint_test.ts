import { assertEquals, assertThrows } from "@std/assert";
import { docLint, packageImports, parseDocLint } from "../scripts/doc_lint.ts";

Deno.test("docLint: tolerates references to rxjs's types only, whatever a private type's name", async () => {
  const dir = new URL("./fixtures/doc_lint/", import.meta.url);
  const { errors, tolerated } = await docLint(["mod.ts"], dir);
  const file = new URL("mod.ts", dir).pathname;
  assertEquals(tolerated, 1);
  assertEquals(errors, [
    {
      kind: "private-type-ref",
      message: "public type 'viaOwn' references private type 'Subscribable'",
      location: `${file}:21:1`,
      privateType: "Subscribable",
    },
    {
      kind: "missing-jsdoc",
      message: "exported symbol is missing JSDoc documentation",
      location: `${file}:25:14`,
      privateType: undefined,
    },
  ]);
});

Deno.test("parseDocLint: a count that differs from the errors parsed is an error", () => {
  const err = assertThrows(
    () => parseDocLint("error: Found 2 documentation lint errors.\n"),
    Error,
  );
  assertEquals(
    err.message,
    "deno doc --lint reported 2 errors but 0 were parsed: its output format changed; update scripts/doc_lint.ts",
  );
});

Deno.test("packageImports: the names imported from the packages (rxjs by default), with and without type and as", () => {
  const src = `import { map, type OperatorFunction, Observable as Obs } from "rxjs";
import type { UnaryFunction } from 'rxjs';
import { other } from "./rxjs.ts";`;
  assertEquals([...packageImports(src)], [
    "map",
    "OperatorFunction",
    "Observable",
    "UnaryFunction",
  ]);
  const kafka = `import type { KafkaConfig, RetryOptions as R } from "kafkajs";\n${src}`;
  assertEquals([...packageImports(kafka, new Set(["kafkajs"]))], ["KafkaConfig", "RetryOptions"]);
});
