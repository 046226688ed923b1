import type { JobType, Tier } from "../protocol/index.ts";
import type { Candidate } from "./storage/worker-store.ts";

/**
 * Scores a candidate for a job. Policy fit dominates (FAST prefers DESKTOP, CHEAP TASK prefers
 * SEEKER), then the job's model being loaded, on-chain reputation, recent success rate and
 * health, then freshness.
 * Exact ties go to the worker that waited longest since its last assignment (round robin).
 */
export function score(c: Candidate, job: { tier: Tier; jobType: JobType }, now: number): number {
  let s = 0;
  if (job.tier === "FAST" && c.provider_type === "DESKTOP") s += 100;
  if (job.tier === "CHEAP" && job.jobType === "TASK" && c.provider_type === "SEEKER") s += 100;
  // Reputation is a 0..100 summary read from ERC-8004; clamp so a bad value cannot dominate.
  s += Math.max(0, Math.min(100, c.reputation)) * 0.3;
  const total = c.successes + c.failures;
  // Laplace smoothing: a new worker starts at 0.5 rather than at either extreme.
  s += ((c.successes + 1) / (total + 2)) * 20;
  if (c.unhealthy_until > now) s -= 50;
  // A model already loaded starts at once; a cold load costs 10-60 s.
  if (c.loaded === 1) s += 40;
  // Freshness, in one coarse step so that otherwise equal workers tie and share work round robin.
  if (now - c.last_seen < 15_000) s += 5;
  return s;
}

export function pickBest(candidates: readonly Candidate[], job: { tier: Tier; jobType: JobType }, now: number): Candidate | undefined {
  let best: Candidate | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const c of candidates) {
    const s = score(c, job, now);
    if (s > bestScore || (s === bestScore && best !== undefined && c.last_assigned_at < best.last_assigned_at)) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}
