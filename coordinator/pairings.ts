import { LIMITS } from "../protocol/index.ts";
import { fail, type Outcome, ok } from "./errors.ts";
import type { Lifecycle } from "./lifecycle.ts";

const CLAIM_REFUSED = {
  invalid_code: "no such pairing code; check it or ask the user for a new one",
  already_claimed: "this pairing code was already used; codes are single use",
  expired: "this pairing code has expired; ask the user for a new one",
  too_many_pairings: `this worker already serves ${LIMITS.maxPairingsPerWorker} users; revoke some pairings first`,
} as const;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Trust pairing over HTTP, for PRIVATE jobs: a seeker's single-use codes (rate-limited per hour),
 * claimed by a worker key, listed and revoked by the seeker. The caller has checked the seeker's
 * signature; a worker claims over its verified socket in `worker-session.ts`.
 */
export class Pairings {
  private readonly life: Lifecycle;

  constructor(life: Lifecycle) {
    this.life = life;
  }

  create(userId: string, now: number): Outcome<Record<string, string>> {
    if (this.life.trust.createdInLastHour(userId, now) >= LIMITS.pairingCreatesPerHour) {
      return fail(429, "rate_limited", `at most ${LIMITS.pairingCreatesPerHour} pairing codes per hour; use one you have`);
    }
    const row = this.life.trust.create(userId, now);
    return ok({ pairing_code: row.pairing_code, expires_at: iso(row.expires_at) }, 201);
  }

  /** A claimed pairing makes the worker eligible at once: its free slots take the user's waiting PRIVATE jobs. */
  claim(code: string, pubkey: string, now: number): Outcome<Record<string, string>> {
    const result = this.life.trust.claim(code, pubkey, now);
    if (!result.ok) return fail(400, result.code, CLAIM_REFUSED[result.code]);
    this.life.fillWorkers(this.life.workers.socketsOf(pubkey), now);
    return ok({ user_id: result.userId, paired_at: iso(result.pairedAt) });
  }

  list(userId: string): Outcome<{ providers: { provider_pubkey: string; paired_at: string }[] }> {
    const providers = this.life.trust.list(userId).map((p) => ({ provider_pubkey: p.provider_pubkey, paired_at: iso(p.paired_at) }));
    return ok({ providers });
  }

  revoke(userId: string, pubkey: string, now: number): Outcome<Record<string, unknown>> {
    if (this.life.trust.revoke(userId, pubkey, now) === 0) return fail(404, "not_found", "no active pairing with that provider");
    return ok({ revoked: true, provider_pubkey: pubkey });
  }
}
