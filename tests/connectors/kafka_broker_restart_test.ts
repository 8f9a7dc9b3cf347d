// The broker killed (SIGKILL) and restarted under a running flow: KafkaSource waits and reads
// on, KafkaSink's sends are retried until the broker is back; nothing is lost. The test starts
// a broker of its own (scripts/kafka.ts), since it kills it.
import { map } from "rxjs";
import { assert, assertEquals } from "@std/assert";
import { Dataflow, inspect, run } from "../../mod.ts";
import { type KafkaMessage, KafkaSink, KafkaSource } from "../../connectors/kafka/mod.ts";
import { startKafka } from "../../scripts/kafka.ts";
import { BROKERS, createTopic, kafkaTest, produce, readAll } from "./_kafka.ts";

kafkaTest(
  "a broker killed and restarted mid-run: the flow waits and continues, nothing lost",
  async (c) => {
    assert(BROKERS !== undefined);
    const broker = await startKafka();
    const saved = Deno.env.get("WEIR_KAFKA_BROKERS");
    // The helpers talk to the broker under test: this one.
    Deno.env.set("WEIR_KAFKA_BROKERS", broker.brokers);
    try {
      const input = await createTopic("restart-in", 2);
      const output = await createTopic("restart-out", 1);
      const dec = new TextDecoder();
      const seen: string[] = [];
      let waiting: { n: number; resolve: () => void } | undefined;
      const reached = (n: number) =>
        new Promise<void>((resolve) => {
          if (seen.length >= n) resolve();
          else waiting = { n, resolve };
        });
      const stop = new AbortController();
      const flow = new Dataflow("kafka_restart");
      flow.input(
        "in",
        new KafkaSource([broker.brokers], [input], c.options({ brokers: [broker.brokers] })),
      )
        .pipe(
          map((m: KafkaMessage) => dec.decode(m.value!)),
          inspect("seen", (_id, v: string) => {
            seen.push(v);
            if (waiting !== undefined && seen.length >= waiting.n) waiting.resolve();
          }),
          map((v: string) => [null, v] as [null, string]),
        )
        .output(
          "out",
          new KafkaSink([broker.brokers], output, c.options({ brokers: [broker.brokers] })),
        );
      const running = run(flow, { epochInterval: 100, signal: stop.signal });
      const batch = (from: number) =>
        Array.from(
          { length: 100 },
          (_, i) => [null, `v${from + i}`, i % 2] as [null, string, number],
        );
      await produce(input, batch(0));
      await reached(100);
      await broker.kill();
      // Written while the broker is down, once it is back: the flow must be waiting, not failed.
      await new Promise((r) => setTimeout(r, 1000));
      await broker.restart();
      await produce(input, batch(100));
      await reached(200);
      stop.abort();
      assertEquals((await running).status, "stopped");
      const expected = Array.from({ length: 200 }, (_, i) => `v${i}`).sort();
      assertEquals([...seen].sort(), expected);
      const written = await readAll(output);
      assertEquals([...new Set(written.map((r) => r.value))].sort(), expected);
    } finally {
      if (saved !== undefined) Deno.env.set("WEIR_KAFKA_BROKERS", saved);
      await broker.stop();
    }
  },
);
