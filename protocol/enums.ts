import { z } from "zod";

export const CHAINS = ["monad", "solana"] as const;
export const Chain = z.enum(CHAINS);
export type Chain = z.infer<typeof Chain>;

export const JobType = z.enum(["LLM_INFER", "TASK"]);
export type JobType = z.infer<typeof JobType>;

export const Policy = z.enum(["AUTO", "FAST", "CHEAP"]);
export type Policy = z.infer<typeof Policy>;

/** A resolved policy: what AUTO becomes, and what a commit path names. */
export const Tier = z.enum(["FAST", "CHEAP"]);
export type Tier = z.infer<typeof Tier>;

export const PrivacyClass = z.enum(["PUBLIC", "PRIVATE"]);
export type PrivacyClass = z.infer<typeof PrivacyClass>;

export const ProviderType = z.enum(["DESKTOP", "SEEKER"]);
export type ProviderType = z.infer<typeof ProviderType>;

/** Wire status; the reference set (`assigned` once a worker holds the job; it never reports `running`). */
export const JobStatus = z.enum(["pending", "assigned", "completed", "failed"]);
export type JobStatus = z.infer<typeof JobStatus>;

/** Whether a wire status is final (`completed` or `failed`); `pending` and `assigned` are still moving. */
export function isFinishedStatus(status: JobStatus): boolean {
  return status === "completed" || status === "failed";
}

/**
 * Our finer lifecycle stage, reported beside `status` so reference clients keep working.
 * `settling`: the work is done and verified, the payment is being settled; the result is
 * released only once it is.
 */
export const JobStage = z.enum(["pending", "assigned", "settling", "completed", "failed"]);
export type JobStage = z.infer<typeof JobStage>;

export const TaskType = z.enum(["summarize", "classify", "extract_json"]);
export type TaskType = z.infer<typeof TaskType>;

/** Capabilities each provider type may advertise. */
export const PROVIDER_CAPABILITIES: Record<ProviderType, readonly JobType[]> = {
  DESKTOP: ["LLM_INFER", "TASK"],
  SEEKER: ["TASK"],
};
