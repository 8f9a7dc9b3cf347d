/**
 * `deno task test`: runs weir's tests, with a Kafka broker for the Kafka tests.
 *
 * When `WEIR_KAFKA_BROKERS` is unset and Java and Maven are present, it starts a broker
 * (`scripts/kafka.ts`; its log goes to a file), runs `deno test` with `WEIR_KAFKA_BROKERS`
 * set to it, and stops the broker. Without Java or Maven it prints one line saying what to
 * install, and the Kafka tests are ignored. `deno test`'s output and exit code pass through
 * unchanged (CI parses its summary line); extra arguments are passed to `deno test`.
 *
 *   deno task test [deno test arguments…]
 *
 * Not named `test.ts`: `deno test` runs every `test.ts` it finds as a test module, and this one
 * would then start `deno test` again, recursively (tests/layout_test.ts keeps it that way).
 *
 * @module
 */
import { missingTools, startKafka } from "./kafka.ts";

/** The flags every test run needs (the README's test command). */
export const TEST_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net=127.0.0.1",
  "--unstable-kv",
  "--v8-flags=--expose-gc",
];

const env: Record<string, string> = {};
let broker: Awaited<ReturnType<typeof startKafka>> | undefined;
if (!Deno.env.get("WEIR_KAFKA_BROKERS")) {
  const missing = await missingTools();
  if (missing !== undefined) {
    console.error(missing);
  } else {
    try {
      broker = await startKafka({ log: (l) => console.error(l) });
      env.WEIR_KAFKA_BROKERS = broker.brokers;
    } catch (err) {
      // The Kafka tests are then ignored; this line says why.
      console.error(
        `Kafka tests skipped: the test broker did not start: ${(err as Error).message}`,
      );
    }
  }
}

const args = Deno.args.length > 0 ? Deno.args : ["--doc"];
let code = 1;
try {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...TEST_FLAGS, ...args],
    env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // Ctrl-C reaches deno test (same process group); the broker is stopped below.
  const ignore = () => {};
  Deno.addSignalListener("SIGINT", ignore);
  code = (await child.status).code;
  Deno.removeSignalListener("SIGINT", ignore);
} finally {
  await broker?.stop();
}
Deno.exit(code);
