// Exactly-once Kafka → Kafka after SIGKILL: the flow of fixtures/kafka_eos_flow.ts (count per
// key, exactly-once KafkaSink, fs store) runs in a subprocess that is killed again and again —
// at seeded random moments, and at the two phases of an epoch's commit: right after the
// store's commit, before the transaction's, and right after the transaction's — and restarted
// each time; then a read_committed consumer checks that the output holds every record exactly
// once, each with the count it has in an uninterrupted run. It runs once per KafkaClient.
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "@std/assert";
import { brokers, createTopic, kafkaTest, produce, readAll } from "./_kafka.ts";
import { rng } from "../_rng.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/kafka_eos_flow.ts", import.meta.url));
const KILLS = 22;
const PER_RUN = 150;
const KEYS = 24;

interface Outcome {
  readonly killed: boolean;
  readonly stdout: string;
}

/** Runs the fixture; `kill` is a phase for WEIR_KILL_AT, or a delay in ms before a SIGKILL. */
async function runFixture(args: string[], kill: string | number | undefined): Promise<Outcome> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (typeof kill === "string") env.WEIR_KILL_AT = kill;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (typeof kill === "number") {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
    }, kill);
  }
  const out = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const killed = out.signal === "SIGKILL";
  if (!killed && out.code !== 0) throw new Error(`The flow failed (${out.code}):\n${stderr}`);
  return { killed, stdout };
}

kafkaTest("exactly-once Kafka → Kafka survives 22 SIGKILLs: every record once", async (c) => {
  const input = await createTopic("eos-in", 3);
  const output = await createTopic("eos-out", 2);
  const dir = await Deno.makeTempDir({ prefix: "weir_kafka_eos_" });
  const args = [brokers().join(","), input, output, `${dir}/store`, `weir-test-${input}`, c.name];
  const random = rng(20261201);
  const expected: string[] = [];
  const counts = new Map<string, number>();
  let next = 0;
  const produceMore = async () => {
    const recs: [string, string, number][] = [];
    for (let i = 0; i < PER_RUN; i++, next++) {
      const k = next % KEYS;
      const n = (counts.get(`k${k}`) ?? 0) + 1;
      counts.set(`k${k}`, n);
      recs.push([`k${k}`, `v${next}`, k % 3]);
      expected.push(`k${k}=v${next}#${n}`);
    }
    await produce(input, recs);
  };
  let kills = 0;
  let typical = 1000;
  // Epoch commits in a whole run (a faster client reads a run's input in fewer epochs):
  // phase kills aim at one of them.
  let commits = 3;
  let betweenCommits = 0;
  const modes: string[] = [];
  while (kills < KILLS) {
    await produceMore();
    const r = random();
    const kill = r < 0.35
      ? `store:${1 + Math.floor(random() * commits)}`
      : r < 0.55
      ? `sink:${1 + Math.floor(random() * commits)}`
      : Math.floor(typical * (0.3 + 0.7 * random()));
    const started = Date.now();
    const o = await runFixture(args, kill);
    if (!o.killed) {
      // Timed kills aim within the time a whole run takes, phase kills within its commits.
      typical = Date.now() - started;
      commits = Math.max(1, o.stdout.split("\n").filter((l) => l.startsWith("sink-")).length);
      continue;
    }
    kills++;
    modes.push(String(kill));
    const lines = o.stdout.trim().split("\n");
    if (lines[lines.length - 1]?.startsWith("store-committed")) betweenCommits++;
  }
  // The last run, not killed, reads to the end.
  const last = await runFixture(args, undefined);
  assert(!last.killed);
  assert(last.stdout.includes("done eof"), last.stdout);
  const back = (await readAll(output)).map((r) => `${r.key}=${r.value}`);
  assertEquals(back.length, expected.length, `kills: ${modes.join(" ")}`);
  assertEquals(back.sort(), [...expected].sort());
  // Some kills fell between the store's commit and the transaction's.
  assert(
    betweenCommits >= 5,
    `only ${betweenCommits} kills between the two commits; kills: ${modes.join(" ")}`,
  );
  assert(modes.filter((m) => !m.includes(":")).length >= 3, `kills: ${modes.join(" ")}`);
  await Deno.remove(dir, { recursive: true });
});
