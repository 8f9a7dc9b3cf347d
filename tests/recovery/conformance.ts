/**
 * The conformance suite every {@linkcode RecoveryBackend} passes: the contract in
 * src/recovery/backend.ts, checked on concrete values.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import type { RecoveryBackend } from "../../src/recovery/backend.ts";

/** One fresh, empty store location for one test. */
export interface ConformanceFixture {
  /** A backend over the location. */
  readonly backend: RecoveryBackend;
  /** Another backend over the same location (as after a restart). */
  readonly reopen: () => RecoveryBackend;
  /** Removes the location. */
  readonly cleanup: () => Promise<void>;
}

/** `n` random bytes (crypto.getRandomValues fills at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536));
  return b;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The sizes every backend stores byte for byte. */
export const SIZES: readonly number[] = [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 2 * MiB];

function name(i: number): string {
  return `delta-${String(i).padStart(16, "0")}`;
}

/** Registers one test (`Deno.test` by default; the browser tests collect them instead). */
export type RegisterTest = (name: string, fn: () => Promise<void>) => void;

/**
 * Registers the suite's tests, each named `<name>: …`, each on a fresh store from `make`,
 * with `register` (default: `Deno.test`; the browser tests run them inside Chromium).
 */
export function backendConformance(
  backendName: string,
  make: () => Promise<ConformanceFixture>,
  register: RegisterTest = (name, fn) => Deno.test(name, fn),
): void {
  const test = (title: string, fn: (f: ConformanceFixture) => Promise<void>) => {
    register(`${backendName}: ${title}`, async () => {
      const f = await make();
      try {
        await fn(f);
      } finally {
        try {
          await f.backend.close();
        } finally {
          await f.cleanup();
        }
      }
    });
  };

  test("a new store has no manifest and no segments", async ({ backend }) => {
    assertEquals(await backend.readManifest(), undefined);
    assertEquals(await backend.listSegments(), []);
    assertEquals(typeof backend.description, "string");
    assert(backend.description.length > 0);
  });

  test("the manifest reads back byte for byte; a second write replaces it", async ({ backend }) => {
    const first = new TextEncoder().encode(`{"format":"weir-recovery","version":1}\n`);
    await backend.writeManifest(first);
    assertEquals(await backend.readManifest(), first);
    const second = randomBytes(3000);
    await backend.writeManifest(second);
    assertEquals(await backend.readManifest(), second);
    // The manifest is not a segment.
    assertEquals(await backend.listSegments(), []);
  });

  test("segments of 0, 1, 64 KiB-1, 64 KiB, 64 KiB+1 and 2 MiB random bytes round-trip", async ({ backend }) => {
    const written = SIZES.map((n) => randomBytes(n));
    for (let i = 0; i < written.length; i++) await backend.writeSegment(name(i), written[i]!);
    assertEquals((await backend.listSegments()).sort(), SIZES.map((_, i) => name(i)));
    for (let i = 0; i < written.length; i++) {
      const back = await backend.readSegment(name(i));
      assertEquals(back.length, SIZES[i]);
      assertEquals(back, written[i]);
    }
  });

  test("a segment given as a view into a larger buffer stores just the view", async ({ backend }) => {
    const big = randomBytes(200 * KiB);
    const view = big.subarray(5 * KiB + 3, 150 * KiB + 7);
    await backend.writeSegment(name(1), view);
    assertEquals(await backend.readSegment(name(1)), big.slice(5 * KiB + 3, 150 * KiB + 7));
  });

  test("segments and the manifest are kept apart by name", async ({ backend }) => {
    await backend.writeManifest(new Uint8Array([9]));
    await backend.writeSegment("base-0000000000000004", new Uint8Array([4]));
    await backend.writeSegment("delta-0000000000000004", new Uint8Array([40, 41]));
    await backend.writeSegment("delta-0000000000000005", new Uint8Array([]));
    assertEquals((await backend.listSegments()).sort(), [
      "base-0000000000000004",
      "delta-0000000000000004",
      "delta-0000000000000005",
    ]);
    assertEquals(await backend.readSegment("base-0000000000000004"), new Uint8Array([4]));
    assertEquals(await backend.readSegment("delta-0000000000000004"), new Uint8Array([40, 41]));
    assertEquals(await backend.readSegment("delta-0000000000000005"), new Uint8Array([]));
    assertEquals(await backend.readManifest(), new Uint8Array([9]));
  });

  test("writing an existing name replaces the segment", async ({ backend, reopen }) => {
    const large = randomBytes(300 * KiB);
    await backend.writeSegment(name(7), large);
    await backend.writeSegment(name(8), new Uint8Array([8]));
    const small = new Uint8Array([1, 2, 3, 4, 5]);
    await backend.writeSegment(name(7), small);
    assertEquals((await backend.listSegments()).sort(), [name(7), name(8)]);
    assertEquals(await backend.readSegment(name(7)), small);
    const larger = randomBytes(500 * KiB);
    await backend.writeSegment(name(7), larger);
    assertEquals(await backend.readSegment(name(7)), larger);
    const again = reopen();
    try {
      assertEquals((await again.listSegments()).sort(), [name(7), name(8)]);
      assertEquals(await again.readSegment(name(7)), larger);
      assertEquals(await again.readSegment(name(8)), new Uint8Array([8]));
    } finally {
      await again.close();
    }
  });

  test("deleteSegments removes exactly the names given; missing names are fine", async ({ backend }) => {
    for (let i = 1; i <= 5; i++) await backend.writeSegment(name(i), randomBytes(i * 40 * KiB));
    const keep = await backend.readSegment(name(3));
    await backend.deleteSegments([name(1), name(2), name(4), name(5)]);
    assertEquals(await backend.listSegments(), [name(3)]);
    assertEquals(await backend.readSegment(name(3)), keep);
    await assertRejects(() => backend.readSegment(name(2)));
    // Missing names: never written, already deleted, repeated; an empty list.
    await backend.deleteSegments([name(99), name(1), name(1), "base-0000000000000001"]);
    await backend.deleteSegments([]);
    assertEquals(await backend.listSegments(), [name(3)]);
    // A deleted name can be written again.
    await backend.writeSegment(name(1), new Uint8Array([1]));
    assertEquals((await backend.listSegments()).sort(), [name(1), name(3)]);
    assertEquals(await backend.readSegment(name(1)), new Uint8Array([1]));
  });

  test("deleting from a store that was never written is fine", async ({ backend }) => {
    await backend.deleteSegments([name(1), name(2)]);
    assertEquals(await backend.listSegments(), []);
  });

  test("readSegment of a missing name rejects with an error naming it", async ({ backend }) => {
    const before = await assertRejects(() => backend.readSegment(name(42)));
    assertStringIncludes(before.message, name(42));
    await backend.writeSegment(name(1), new Uint8Array([1]));
    const after = await assertRejects(() => backend.readSegment(name(42)));
    assertStringIncludes(after.message, name(42));
  });

  test("data is visible to a new backend over the same location", async ({ backend, reopen }) => {
    const manifest = new TextEncoder().encode("manifest\n");
    const segs = [randomBytes(10), randomBytes(70 * KiB), randomBytes(1 * MiB + 17)];
    await backend.writeManifest(manifest);
    for (let i = 0; i < segs.length; i++) await backend.writeSegment(name(i + 1), segs[i]!);
    await backend.deleteSegments([name(1)]);
    await backend.close();
    const again = reopen();
    try {
      assertEquals(await again.readManifest(), manifest);
      assertEquals((await again.listSegments()).sort(), [name(2), name(3)]);
      assertEquals(await again.readSegment(name(2)), segs[1]);
      assertEquals(await again.readSegment(name(3)), segs[2]);
    } finally {
      await again.close();
    }
    // The first backend can be used again after close (a run closes it when it ends).
    assertEquals((await backend.listSegments()).sort(), [name(2), name(3)]);
  });

  test("concurrent writes and listings lose nothing", async ({ backend }) => {
    const segs = [randomBytes(1 * MiB), randomBytes(900 * KiB), randomBytes(5), randomBytes(0)];
    let writing = true;
    const listings: string[][] = [];
    const lister = (async () => {
      while (writing) listings.push(await backend.listSegments());
    })();
    await Promise.all(segs.map((s, i) => backend.writeSegment(name(i + 1), s)));
    writing = false;
    await lister;
    assert(listings.length > 0);
    const all = [name(1), name(2), name(3), name(4)];
    for (const l of listings) assert(l.every((n) => all.includes(n)), l.join(" "));
    assertEquals((await backend.listSegments()).sort(), all);
    for (let i = 0; i < segs.length; i++) {
      assertEquals(await backend.readSegment(name(i + 1)), segs[i]);
    }
  });

  test("another backend's reads remove nothing: not a write in progress, not a segment", async ({ backend, reopen }) => {
    const manifest = new TextEncoder().encode("manifest\n");
    await backend.writeManifest(manifest);
    const kept = [randomBytes(10), randomBytes(300 * KiB)];
    for (let i = 0; i < kept.length; i++) await backend.writeSegment(name(i + 1), kept[i]!);
    const reader = reopen();
    try {
      // Big writes of the first backend, in progress while the second lists and reads.
      const big = [randomBytes(2 * MiB), randomBytes(3 * MiB + 5)];
      let done = false;
      const writes = Promise.all(big.map((b, i) => backend.writeSegment(name(10 + i), b)))
        .finally(() => done = true);
      writes.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
      let reads = 0;
      while (!done || reads < 20) {
        const listed = await reader.listSegments();
        for (const n of [name(1), name(2)]) assert(listed.includes(n), listed.join(" "));
        assertEquals(await reader.readManifest(), manifest);
        assertEquals(await reader.readSegment(name(1)), kept[0]);
        reads++;
        if (done && reads >= 20) break;
      }
      await writes;
      assertEquals((await reader.listSegments()).sort(), [1, 2, 10, 11].map(name));
      for (const again of [backend, reader]) {
        assertEquals(await again.readSegment(name(2)), kept[1]);
        assertEquals(await again.readSegment(name(10)), big[0]);
        assertEquals(await again.readSegment(name(11)), big[1]);
        assertEquals(await again.readManifest(), manifest);
      }
    } finally {
      await reader.close();
    }
  });
}
