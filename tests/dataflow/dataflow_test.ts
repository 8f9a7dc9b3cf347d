import { assertEquals, assertThrows } from "@std/assert";
import { map } from "rxjs";
import { Dataflow, keyOn, step } from "../../mod.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("flow id with a period is rejected", () => {
  assertThrows(() => new Dataflow("a.b"), RangeError, `Flow id "a.b" can't contain a period`);
});

Deno.test("step ids are recorded fully qualified, in definition order", () => {
  const flow = new Dataflow("df");
  flow.input("inp", new TestingSource([1]))
    .pipe(map((x: number) => x), keyOn("key", (x) => `${x}`), step("named", map((x) => x)))
    .output("out", new TestingSink([]));
  assertEquals(flow.steps.map((s) => s.id), [
    "df.inp",
    "df.pipe_1",
    "df.key",
    "df.named",
    "df.out",
  ]);
});
