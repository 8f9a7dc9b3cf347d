// retryRetriable: what the kafkajs client does when its admin gives up on an error the broker
// marks retriable (a loading group coordinator cannot be produced on demand on a real broker,
// so the errors here are made by hand, shaped as kafkajs's KafkaJSProtocolError).
import { assertEquals, assertRejects } from "@std/assert";
import { retryRetriable } from "../../connectors/kafka/client.ts";

function loading(): Error {
  return Object.assign(
    new Error("The coordinator is loading and hence can't process requests for this group"),
    { retriable: true, type: "COORDINATOR_LOAD_IN_PROGRESS" },
  );
}

Deno.test("retryRetriable reads again after retriable errors, with doubling delays", async () => {
  const at: number[] = [];
  const t0 = performance.now();
  const got = await retryRetriable({ retries: 5, initialRetryTime: 20, maxRetryTime: 1000 }, () => {
    at.push(performance.now() - t0);
    return at.length < 3 ? Promise.reject(loading()) : Promise.resolve("offsets");
  });
  assertEquals(got, "offsets");
  assertEquals(at.length, 3);
  // 20 ms, then 40 ms between tries (timers may fire late, never early).
  assertEquals(at[1]! - at[0]! >= 19, true);
  assertEquals(at[2]! - at[1]! >= 39, true);
});

Deno.test("retryRetriable throws a non-retriable error at once, and the last retriable one", async () => {
  let calls = 0;
  const fatal = Object.assign(new Error("Not authorized to access group"), { retriable: false });
  const err = await assertRejects(() =>
    retryRetriable({ retries: 5, initialRetryTime: 1 }, () => (calls++, Promise.reject(fatal)))
  );
  assertEquals([err, calls], [fatal, 1]);
  calls = 0;
  await assertRejects(
    () =>
      retryRetriable(
        { retries: 2, initialRetryTime: 1 },
        () => (calls++, Promise.reject(loading())),
      ),
    Error,
    "The coordinator is loading",
  );
  assertEquals(calls, 3);
});
