// The three demo scenarios, each run on one chain through the seeker SDK exactly as an agent
// would call it. Each returns a ScenarioResult whether it passed or not, so one failure never
// hides the others.
import type { Chain, Policy, PrivacyClass } from "../protocol/index.ts";
import { isDispatchError } from "../sdk/errors.ts";
import type { ComputeRouter, JobResult } from "../sdk/index.ts";
import type { WorkerChild } from "./demo-network.ts";

export type ScenarioId = "llm_summary" | "public_task" | "private_task";

export interface ScenarioResult {
  chain: Chain;
  scenario: ScenarioId;
  title: string;
  policy: Policy;
  privacy: PrivacyClass;
  ok: boolean;
  /** What the job produced, as a line of text for people. */
  display: string;
  route: string | null;
  job_id: string | null;
  price: string | null;
  payment_state: string | null;
  latency_ms: number | null;
  /** The SDK returned the job only after checking its receipt (ed25519 signature, output hash, job id). */
  receipt_verified: boolean;
  provider_pubkey: string | null;
  /** The job's raw output (LLM text object or TASK output). */
  output: unknown;
  /** Inputs and facts specific to the scenario (prompt, labels, paired worker...). */
  details: Record<string, unknown>;
  error: { code: string; message: string } | null;
}

/** A bedtime-story prompt suits the tiny stories260K model; a real backend summarizes for real. */
export const LLM_PROMPT =
  "Summarize this story in one sentence.\nStory: Lily found a small lost dog in the park. She gave it water and carried it home. " +
  "The next day she put up signs, and a happy boy came to take his dog back.\nSummary:";

export const PUBLIC_TEXT =
  "The city council voted on Tuesday to expand the downtown bike lane network by forty kilometres over the next three years. " +
  "Supporters said the plan would cut traffic congestion and reduce emissions from short car trips. " +
  "Several shop owners objected, arguing that removing parking spaces would drive customers away. " +
  "The council agreed to study parking demand before the second phase begins. " +
  "Construction of the first segment is scheduled to start in the spring, funded mostly by a regional transport grant.";

export const PRIVATE_TEXT =
  "My credit card was charged twice for the same order, and the second payment still shows on my bank statement. " +
  "I asked for a refund of the duplicate charge a week ago. Please fix the billing error and send me a corrected invoice.";

export const PRIVATE_LABELS = ["billing", "shipping", "technical support", "account access"];

type Base = Pick<ScenarioResult, "chain" | "scenario" | "title" | "policy" | "privacy" | "details">;

async function measure(
  router: ComputeRouter,
  base: Base,
  run: () => Promise<{ result: JobResult; display: string; check?: string }>,
): Promise<ScenarioResult> {
  const started = performance.now();
  try {
    const { result, display, check } = await run();
    const latency = Math.round(performance.now() - started);
    // The SDK verified the receipt before returning; verify it once more from the stored
    // job, as `dispatch receipt verify` would later, so the proof outlives this call.
    if (result.job_id !== null) {
      const ref = { job_id: result.job_id, chain: base.chain, privacy: base.privacy };
      router.verify(await router.status(ref), result.job_id);
    }
    return {
      ...base,
      ok: check === undefined,
      display,
      route: result.route,
      job_id: result.job_id,
      price: result.payment?.price ?? null,
      payment_state: result.payment?.state ?? null,
      latency_ms: latency,
      receipt_verified: result.receipt !== null,
      provider_pubkey: result.receipt?.provider_pubkey ?? null,
      output: result.output,
      error: check === undefined ? null : { code: "unexpected_output", message: check },
    };
  } catch (err) {
    return failed(base, err);
  }
}

export function failed(base: Base, err: unknown): ScenarioResult {
  const error = isDispatchError(err)
    ? { code: err.code, message: err.message }
    : { code: "demo_error", message: err instanceof Error ? err.message : String(err) };
  return {
    ...base,
    ok: false,
    display: "",
    route: null,
    job_id: null,
    price: null,
    payment_state: null,
    latency_ms: null,
    receipt_verified: false,
    provider_pubkey: null,
    output: null,
    error,
  };
}

/** (a) LLM_INFER at FAST: streamed tokens, a verified receipt for the whole text. */
export function llmSummary(router: ComputeRouter, chain: Chain): Promise<ScenarioResult> {
  const base: Base = {
    chain,
    scenario: "llm_summary",
    title: "LLM summarization",
    policy: "FAST",
    privacy: "PUBLIC",
    details: { prompt: LLM_PROMPT },
  };
  let events = 0;
  let streamed = "";
  return measure(router, base, async () => {
    const result = await router.runLLM({
      prompt: LLM_PROMPT,
      max_tokens: 48,
      temperature: 0,
      policy: "FAST",
      chain,
      // Each call is one SSE `token` event, as the worker's job_progress frames reached the coordinator.
      onToken: (text) => {
        events++;
        streamed += text;
      },
    });
    base.details.streamed_events = events;
    base.details.streamed_chars = streamed.length;
    const text = result.text.trim();
    return { result, display: text, ...(text.length === 0 && { check: "the LLM produced no text" }) };
  });
}

/** (b) PUBLIC summarize TASK at CHEAP: an extractive summary, every sentence from the input. */
export function publicTask(router: ComputeRouter, chain: Chain): Promise<ScenarioResult> {
  const base: Base = {
    chain,
    scenario: "public_task",
    title: "PUBLIC TASK summarize",
    policy: "CHEAP",
    privacy: "PUBLIC",
    details: { input: PUBLIC_TEXT, max_sentences: 2 },
  };
  return measure(router, base, async () => {
    const result = await router.runTask({ task_type: "summarize", input: PUBLIC_TEXT, max_sentences: 2, policy: "CHEAP", chain });
    const summary = (result.output as { summary?: unknown } | null)?.summary;
    if (typeof summary !== "string" || summary.length === 0) {
      return { result, display: JSON.stringify(result.output), check: "summarize returned no summary" };
    }
    return { result, display: summary };
  });
}

/**
 * (c) PRIVATE classify TASK: only a worker the seeker paired with may see it. We create a
 * pairing code, `startPaired` starts a worker that claims it, we wait until `trust.list`
 * shows that worker, run the job, check that the paired worker signed it, then revoke the
 * pairing so a long-running network does not collect stale ones.
 */
export async function privateTask(
  router: ComputeRouter,
  chain: Chain,
  startPaired: (pairingCode: string) => Promise<WorkerChild>,
): Promise<ScenarioResult> {
  const base: Base = {
    chain,
    scenario: "private_task",
    title: "PRIVATE TASK classify",
    policy: "CHEAP",
    privacy: "PRIVATE",
    details: { input: PRIVATE_TEXT, labels: PRIVATE_LABELS },
  };
  let worker: WorkerChild;
  try {
    const { pairing_code } = await router.trust.create({ chain });
    worker = await startPaired(pairing_code);
    base.details.paired_worker = worker.pubkey;
    await waitForPairing(router, chain, worker.pubkey);
  } catch (err) {
    return failed(base, err);
  }
  const result = await measure(router, base, async () => {
    const result = await router.runTask({ task_type: "classify", input: PRIVATE_TEXT, labels: PRIVATE_LABELS, privacy: "PRIVATE", chain });
    const out = result.output as { label?: unknown; confidence?: unknown } | null;
    const label = typeof out?.label === "string" ? out.label : undefined;
    const confidence = typeof out?.confidence === "number" ? ` (confidence ${out.confidence.toFixed(2)})` : "";
    let check: string | undefined;
    if (label === undefined || !PRIVATE_LABELS.includes(label)) check = `classify answered ${JSON.stringify(out)}, not one of the labels`;
    else if (result.receipt?.provider_pubkey !== worker.pubkey) {
      check = `the PRIVATE job was signed by ${result.receipt?.provider_pubkey}, not by the paired worker ${worker.pubkey}`;
    }
    return { result, display: `${label}${confidence}`, ...(check !== undefined && { check }) };
  });
  try {
    await router.trust.revoke(worker.pubkey, { chain });
    result.details.revoked = true;
  } catch (err) {
    result.details.revoked = false;
    result.details.revoke_error = err instanceof Error ? err.message : String(err);
  }
  return result;
}

/** The worker claims the code over its socket; `trust.list` is the seeker's proof that it did. */
async function waitForPairing(router: ComputeRouter, chain: Chain, pubkey: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { providers } = await router.trust.list({ chain });
    if (providers.some((p) => p.provider_pubkey === pubkey)) return;
    if (Date.now() > deadline) throw new Error(`worker ${pubkey.slice(0, 12)}… never appeared in trust.list on ${chain}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
