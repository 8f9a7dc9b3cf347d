/**
 * A single-node Apache Kafka broker for tests and for trying the Kafka connector.
 *
 *   deno task kafka [--port 9092] [--topics lines,word-counts:3]
 *
 * starts one in the foreground (Ctrl-C stops it and deletes its data), creates the topics
 * (`name` or `name:partitions`) and prints its bootstrap address. Tests use
 * {@linkcode startKafka}.
 *
 * How: the jars of `org.apache.kafka:kafka_2.13` (plus slf4j) are copied from Maven Central
 * with `mvn dependency:copy-dependencies` on `scripts/kafka/pom.xml` into
 * `~/.cache/weir/kafka-<version>/lib` (or `$WEIR_KAFKA_CACHE`), once; every start then writes
 * a single-node KRaft `server.properties` (broker and controller listeners on 127.0.0.1, free
 * ports, replication factor 1 for the offsets and transaction topics, no auto-created
 * topics), formats the storage, runs `java -cp 'lib/*' kafka.Kafka server.properties` with a
 * 512 MB heap and waits for "Kafka Server started" in its log, which goes to a file in the
 * broker's directory, never to the caller's output.
 *
 * @module
 */

/** The Kafka version the POM pins. */
export const KAFKA_VERSION = "4.4.0";

/** The JVM's options: a 512 MB heap. */
const JVM_OPTS = ["-Xmx512m", "-Xms128m", "-Djava.awt.headless=true"];

/** A running broker. */
export interface KafkaBroker {
  /** The bootstrap address, `127.0.0.1:<port>`. */
  readonly brokers: string;
  /** Its working directory (server.properties, data, `broker.log`). */
  readonly dir: string;
  /** The broker's log file. */
  readonly logFile: string;
  /** The Java process id (tests SIGKILL it). */
  readonly pid: number;
  /** SIGKILLs the broker and waits for it to exit; its data stays, so `restart` resumes. */
  kill(): Promise<void>;
  /** Starts the broker again on the same ports and data (after `kill`). */
  restart(): Promise<void>;
  /** Stops the broker (SIGTERM, SIGKILL after 10 s) and deletes its directory. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startKafka}. */
export interface StartKafkaOptions {
  /** The broker's port (default, or 0: a free one). */
  readonly port?: number;
  /** How long to wait for the broker to be ready, in ms (default 120 000). */
  readonly timeoutMs?: number;
  /** Progress messages (default: none). */
  readonly log?: (line: string) => void;
}

/** Why a broker cannot be started here, or `undefined` when Java and Maven are present. */
export async function missingTools(): Promise<string | undefined> {
  const missing = [];
  for (const [tool, arg] of [["java", "-version"], ["mvn", "-v"]] as const) {
    if (!(await runs(tool, [arg]))) missing.push(tool);
  }
  if (missing.length === 0) return undefined;
  if (missing.length === 1 && missing[0] === "mvn" && await hasJars()) return undefined;
  return `Kafka tests skipped: install Java 17+ and Maven 3.8+ (java and mvn on the PATH) to ` +
    `run them against a real broker, or set WEIR_KAFKA_BROKERS to a running one`;
}

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Where the jars are cached. */
export function cacheDir(): string {
  const explicit = Deno.env.get("WEIR_KAFKA_CACHE");
  if (explicit) return explicit;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
  const xdg = Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`;
  return `${xdg}/weir/kafka-${KAFKA_VERSION}`;
}

async function hasJars(): Promise<boolean> {
  try {
    for await (const e of Deno.readDir(`${cacheDir()}/lib`)) {
      if (e.name.startsWith("kafka_2.13-")) return true;
    }
  } catch {
    // No cache yet.
  }
  return false;
}

/** Copies the broker's jars into the cache unless they are there. Returns the lib directory. */
export async function ensureJars(log: (line: string) => void = () => {}): Promise<string> {
  const lib = `${cacheDir()}/lib`;
  if (await hasJars()) return lib;
  const pom = new URL("./kafka/pom.xml", import.meta.url).pathname;
  const tmp = `${lib}.tmp-${crypto.randomUUID()}`;
  log(`Fetching Kafka ${KAFKA_VERSION} jars with Maven into ${lib}`);
  const out = await new Deno.Command("mvn", {
    args: [
      "-q",
      "-B",
      "-f",
      pom,
      "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
      `-DoutputDirectory=${tmp}`,
      "-DincludeScope=runtime",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new Error(
      `Cannot fetch the Kafka ${KAFKA_VERSION} jars with Maven (exit code ${out.code}): ` +
        `${text.trim().split("\n").slice(-5).join(" | ")}. Check that Maven Central is reachable`,
    );
  }
  // Another process may have filled the cache meanwhile: either copy is complete.
  await Deno.rename(tmp, lib).catch(async () => {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  });
  return lib;
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A random Kafka cluster id: 16 bytes in unpadded base64url, not starting with "-". */
function clusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${dataDir}`,
    "num.partitions=1",
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=3",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=3",
    "min.insync.replicas=1",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

/**
 * Starts a broker in a fresh temporary directory and resolves once it is ready.
 *
 * Throws when Java or the jars are missing, when the broker exits before it is ready (the
 * message quotes the end of its log), or after `timeoutMs`.
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const log = options.log ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 120_000;
  const lib = await ensureJars(log);
  const dir = await Deno.makeTempDir({ prefix: "weir-kafka-" });
  const port = options.port || freePort();
  const controllerPort = freePort();
  const props = `${dir}/server.properties`;
  const logFile = `${dir}/broker.log`;
  await Deno.writeTextFile(props, serverProperties(port, controllerPort, `${dir}/data`));
  const java = (main: string, args: string[]) =>
    new Deno.Command("java", {
      args: [
        ...JVM_OPTS,
        "-cp",
        `${lib}/*`,
        main,
        ...args,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  const fmt = await java("kafka.tools.StorageTool", [
    "format",
    "-t",
    clusterId(),
    "-c",
    props,
  ]).output();
  if (!fmt.success) {
    const text = new TextDecoder().decode(fmt.stdout) + new TextDecoder().decode(fmt.stderr);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(
      `Cannot format the Kafka broker's storage in ${dir} (exit code ${fmt.code}): ` +
        text.trim().split("\n").slice(-5).join(" | "),
    );
  }

  let child: Deno.ChildProcess;
  let exited: Promise<Deno.CommandStatus>;
  const launch = async () => {
    const from = await Deno.stat(logFile).then((s) => s.size, () => 0);
    // The shell only redirects both streams into the log file, then becomes the JVM.
    child = new Deno.Command("sh", {
      args: [
        "-c",
        `exec java ${JVM_OPTS.join(" ")} -cp "$1/*" kafka.Kafka "$2" >>"$3" 2>&1`,
        "sh",
        lib,
        props,
        logFile,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    exited = child.status;
    await waitReady(from);
    log(`Kafka ${KAFKA_VERSION} ready at 127.0.0.1:${port} (log: ${logFile})`);
  };
  const waitReady = async (from: number) => {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    exited.then(() => (done = true));
    for (;;) {
      const wasDone = done;
      const text = await readFrom(logFile, from);
      if (text.includes("Kafka Server started")) return;
      if (wasDone || Date.now() > deadline) {
        if (!wasDone) {
          try {
            child.kill("SIGKILL");
          } catch { /* exited */ }
          await exited;
        }
        const tail = text.trim().split("\n").slice(-8).join("\n");
        throw new Error(
          `The Kafka broker in ${dir} ${
            wasDone ? "exited" : `was not ready after ${timeoutMs} ms`
          } before logging "Kafka Server started"; the end of ${logFile}:\n${tail}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    await launch();
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }

  const signal = (sig: Deno.Signal) => {
    try {
      child.kill(sig);
    } catch {
      // Already exited.
    }
  };
  return {
    brokers: `127.0.0.1:${port}`,
    dir,
    logFile,
    get pid() {
      return child.pid;
    },
    async kill() {
      await signal("SIGKILL");
      await exited;
    },
    async restart() {
      await launch();
    },
    async stop() {
      await signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function readFrom(path: string, from: number): Promise<string> {
  const bytes = await Deno.readFile(path).catch(() => new Uint8Array());
  return new TextDecoder().decode(bytes.subarray(from));
}

/**
 * Creates topics (`name` or `name:partitions`, 1 partition by default) on `brokers`; those
 * that exist are left alone.
 */
export async function createTopics(brokers: string, specs: readonly string[]): Promise<void> {
  const { Kafka, logLevel } = await import("kafkajs");
  const { dropTimeoutNegativeWarning } = await import("../connectors/kafka/client.ts");
  dropTimeoutNegativeWarning();
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = specs.map((spec) => {
      const [topic, n] = spec.split(":");
      const numPartitions = n === undefined ? 1 : Number(n);
      if (!topic || !Number.isInteger(numPartitions) || numPartitions < 1) {
        throw new Error(
          `Cannot read the topic ${JSON.stringify(spec)}: write name or name:partitions`,
        );
      }
      return { topic, numPartitions, replicationFactor: 1 };
    }).filter((t) => !existing.has(t.topic));
    if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--port");
  const port = i >= 0 ? Number(Deno.args[i + 1]) : 9092;
  const t = Deno.args.indexOf("--topics");
  const topics = t >= 0 ? (Deno.args[t + 1] ?? "").split(",").filter((x) => x !== "") : [];
  const missing = await missingTools();
  if (missing !== undefined) {
    console.error(missing.replace("Kafka tests skipped: i", "I"));
    Deno.exit(1);
  }
  const broker = await startKafka({ port, log: (l) => console.error(l) });
  if (topics.length > 0) {
    try {
      await createTopics(broker.brokers, topics);
    } catch (err) {
      await broker.stop();
      throw err;
    }
    console.error(`Created topics ${topics.join(", ")}`);
  }
  console.log(broker.brokers);
  console.error("Ctrl-C stops the broker and deletes its data");
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.error("Stopping the broker");
    await broker.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
