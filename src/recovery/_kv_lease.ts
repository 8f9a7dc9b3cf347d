/**
 * The Deno KV backend's writer lease and fencing token (see `kvBackend` in `deno_kv.ts`): one
 * writer at a time, and a writer whose lease another run took over fails its next commit.
 *
 * @module
 */
import { whenNotBusy } from "./_kv_db.ts";

/** Default lease time: a restart after a crash waits about this long. */
export const DEFAULT_LEASE_MS = 5000;
/** Bounds of `leaseMs`. */
export const MIN_LEASE_MS = 100;
export const MAX_LEASE_MS = 600_000;
/** Renewals per lease time: a holder may miss up to three in a row and keep its lease. */
const RENEWALS_PER_LEASE = 4;
/**
 * A lease whose expiry lies this far in the past (on the claimant's clock) is taken at
 * once, without watching it: clocks may disagree by less than this. A wrong guess cannot
 * corrupt the store: the fenced holder fails its next commit.
 */
const LONG_PAST_MS = 60_000;
/** Attempts at taking the lease when other claimants race for it. */
const CLAIM_ATTEMPTS = 10;

/** Holders of leases claimed by backends of this process (refused without watching). */
const LIVE_HOLDERS = new Set<string>();

/** The lease record. `expiresAt` is on the holder's clock (ms since 1970). */
interface Lease {
  readonly holder: string;
  readonly expiresAt: number;
  readonly leaseMs: number;
}

/**
 * A store's lease, claimed and renewed in the background, and the atomic operations fenced by
 * its token: once claimed, every commit checks that the token is still the one this claim set.
 */
export class KvLease {
  /** While claimed: the lease's holder id, the database and the token's versionstamp. */
  private holder: string | undefined;
  private claimedKv: Deno.Kv | undefined;
  private tokenStamp: string | undefined;
  /** Set when another run took the store over; every later write throws. */
  private lost = false;
  private renewTimer: ReturnType<typeof setInterval> | undefined;
  private renewing: Promise<void> | undefined;

  /**
   * @param leaseKey The lease record's key.
   * @param tokenKey The fencing token's key.
   * @param leaseMs How long a lease lasts without renewal.
   * @param description The store, for error messages.
   */
  constructor(
    private readonly leaseKey: Deno.KvKey,
    private readonly tokenKey: Deno.KvKey,
    private readonly leaseMs: number,
    private readonly description: string,
  ) {}

  /**
   * Takes the lease (see `kvBackend` in `deno_kv.ts`): at once when it is free or its expiry is
   * long past; otherwise after watching it for a whole lease time without a change.
   * Resolves `false` as soon as the lease changes while watched (its holder renewed it) or
   * belongs to a live backend of this process.
   */
  async claim(kv: Deno.Kv): Promise<boolean> {
    if (this.holder !== undefined) return true;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      let [lease, token] = await kv.getMany<[unknown, unknown]>([this.leaseKey, this.tokenKey]);
      const held = lease.value;
      if (held !== null && !(isLease(held) && Date.now() > held.expiresAt + LONG_PAST_MS)) {
        if (isLease(held) && LIVE_HOLDERS.has(held.holder)) return false;
        // The holder renews every quarter of its own lease time: watching that long is
        // enough to see a live one.
        const wait = isLease(held) ? held.leaseMs : this.leaseMs;
        const changed = await this.watch(kv, lease, wait);
        if (changed !== undefined) {
          if (changed.value !== null) return false; // renewed (or taken): alive
          continue; // released: try again at once
        }
        token = await kv.get(this.tokenKey);
      }
      const holder = crypto.randomUUID();
      const n = typeof token.value === "number" ? token.value + 1 : 1;
      const take = kv.atomic().check(lease).check(token)
        .set(this.leaseKey, this.leaseRecord(holder))
        .set(this.tokenKey, n);
      const res = await whenNotBusy(() => take.commit());
      if (!res.ok) continue; // another claimant, or a renewal, came first: look again
      this.holder = holder;
      this.claimedKv = kv;
      this.tokenStamp = res.versionstamp;
      this.lost = false;
      LIVE_HOLDERS.add(holder);
      const id = setInterval(() => this.renew(), this.leaseMs / RENEWALS_PER_LEASE);
      Deno.unrefTimer(id as unknown as number);
      this.renewTimer = id;
      return true;
    }
    return false;
  }

  /**
   * Polls the lease for `ms` on this process's monotonic clock; resolves the changed entry
   * as soon as its versionstamp differs from `seen`, or `undefined` if it never did.
   */
  private async watch(
    kv: Deno.Kv,
    seen: Deno.KvEntryMaybe<unknown>,
    ms: number,
  ): Promise<Deno.KvEntryMaybe<unknown> | undefined> {
    const start = performance.now();
    const poll = Math.max(10, Math.min(100, ms / 50));
    for (;;) {
      const left = ms - (performance.now() - start);
      if (left <= 0) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(poll, left)));
      const now = await kv.get(this.leaseKey);
      if (now.versionstamp !== seen.versionstamp) return now;
    }
  }

  private leaseRecord(holder: string): Lease {
    return { holder, expiresAt: Date.now() + this.leaseMs, leaseMs: this.leaseMs };
  }

  /** One renewal, checked against the token: failing means another run took the store. */
  private renew(): void {
    const kv = this.claimedKv;
    const holder = this.holder;
    if (this.renewing !== undefined || kv === undefined || holder === undefined) return;
    const renewing = (async () => {
      const res = await kv.atomic()
        .check({ key: this.tokenKey, versionstamp: this.tokenStamp! })
        .set(this.leaseKey, this.leaseRecord(holder))
        .commit();
      if (!res.ok && this.holder === holder) this.markLost();
    })();
    this.renewing = renewing.catch(() => {
      // A failed renewal (e.g. the database busy) is retried at the next tick; if they keep
      // failing, another run may take the store over, and the token check fences this one.
    }).finally(() => {
      this.renewing = undefined;
    });
  }

  private stopRenewing(): void {
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    if (this.holder !== undefined) LIVE_HOLDERS.delete(this.holder);
  }

  private markLost(): void {
    this.stopRenewing();
    this.lost = true;
    this.holder = undefined;
    this.claimedKv = undefined;
  }

  /** An atomic operation, fenced by the token while claimed; refused once the claim is lost. */
  atomic(kv: Deno.Kv, what: string): Deno.AtomicOperation {
    if (this.lost) throw this.lostError(what);
    const op = kv.atomic();
    if (this.tokenStamp !== undefined) {
      op.check({ key: this.tokenKey, versionstamp: this.tokenStamp });
    }
    return op;
  }

  async commit(kv: Deno.Kv, op: Deno.AtomicOperation, what: string): Promise<void> {
    const res = await whenNotBusy(() => op.commit());
    if (res.ok) return;
    await this.checkFence(kv, what);
    throw new Error(`Deno KV refused the commit ${what} in ${this.description}`);
  }

  /** Throws the lost-claim error when a claimed backend's token changed. */
  async checkFence(kv: Deno.Kv, what: string): Promise<void> {
    if (this.tokenStamp === undefined) return;
    if (!this.lost && (await kv.get(this.tokenKey)).versionstamp === this.tokenStamp) return;
    if (!this.lost) this.markLost();
    throw this.lostError(what);
  }

  private lostError(what: string): Error {
    return new Error(
      `${what[0]!.toUpperCase()}${what.slice(1)} in ${this.description} failed: this backend ` +
        `lost its claim on the ` +
        `store to another run (its lease ran out while this process was stalled or stopped, ` +
        `and the other run took the store over); nothing was written. Stop this run: the ` +
        `other run owns the store now`,
    );
  }

  /** Stops renewing and releases the lease, unless another run took it. */
  async release(): Promise<void> {
    const kv = this.claimedKv;
    const stamp = this.tokenStamp;
    const claimed = this.holder !== undefined;
    this.stopRenewing();
    this.holder = undefined;
    this.claimedKv = undefined;
    this.tokenStamp = undefined;
    await this.renewing;
    if (claimed && kv !== undefined && stamp !== undefined) {
      // Release the lease, unless another run took it; a failure leaves it to run out.
      await kv.atomic().check({ key: this.tokenKey, versionstamp: stamp })
        .delete(this.leaseKey).commit().catch(() => {});
    }
  }
}

function isLease(v: unknown): v is Lease {
  if (typeof v !== "object" || v === null) return false;
  const l = v as Record<string, unknown>;
  return typeof l.holder === "string" && Number.isFinite(l.expiresAt) &&
    typeof l.leaseMs === "number" && l.leaseMs >= MIN_LEASE_MS && l.leaseMs <= MAX_LEASE_MS;
}
