import type { Chain, JobType, OpenAiMessage, PaymentView, Policy, PrivacyClass, ReceiptView, TaskType, Tier } from "../protocol/index.ts";
import type { PaymentClientInput } from "./payments.ts";

/** The subset of `fetch` the SDK uses, so Node, browsers, Workers and tests can all supply one. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** The seeker's ed25519 key (hex), as `generateKeyPair` makes it; `publicKey` is the user_id of signed requests. */
export interface Identity {
  publicKey: string;
  secretKey: string;
}

export type DispatchRoute = `dispatch:${Chain}`;
export type HostedRoute = "hosted:openai" | "hosted:anthropic";
export type Route = DispatchRoute | HostedRoute;

export interface HostedProviderConfig {
  /** The caller's own API key; sent only to this provider's base URL. */
  apiKey: string;
  /** Defaults: https://api.openai.com/v1 and https://api.anthropic.com/v1 (any compatible server works). */
  baseUrl?: string;
  model?: string;
}

export interface HostedConfig {
  openai?: HostedProviderConfig;
  anthropic?: HostedProviderConfig & { version?: string };
  /** Per hosted call (ms); default 60 s. */
  timeoutMs?: number;
}

export interface ComputeRouterOptions {
  /** Base URL of each chain's coordinator, including the chain prefix, e.g. `http://127.0.0.1:8787/monad`. */
  coordinators: Partial<Record<Chain, string>>;
  /** Chains to try, in order; defaults to the order of `coordinators`. */
  chainPreference?: Chain | readonly Chain[];
  /** Pays `402` answers (x402 v2): an `x402Client` or `x402HTTPClient` from `@x402/core/client`, or any PaymentClient. */
  x402Client?: PaymentClientInput;
  /** Signs PRIVATE commits, PRIVATE job reads and trust requests. */
  identity?: Identity;
  /** user_id for PUBLIC jobs when there is no identity (the reference accepts any string). */
  userId?: string;
  /** Bring-your-own-key fallback for PUBLIC jobs no decentralized worker can serve. */
  hosted?: HostedConfig;
  fetch?: FetchLike;
  /** Overall time to wait for a job to settle, per job type (ms). Default TASK 30 s, LLM_INFER 60 s. */
  timeouts?: Partial<Record<JobType, number>>;
  /**
   * The most a job may cost, in USDC atomic units (micro-USD): a 402 asking more is refused
   * (`price_too_high`) before anything is signed. Default: the published price of the job's
   * tier and type (protocol/pricing.ts). A function sees the tier and type.
   */
  maxPrice?: number | ((tier: Tier, jobType: JobType) => number);
  /** Pay only in this asset, and only to this payee, per chain (from your quote or your operator); any when absent. */
  expectedPayment?: Partial<Record<Chain, { asset?: string; payTo?: string }>>;
}

export interface SubmitRequest {
  job_type: JobType;
  payload: Record<string, unknown>;
  policy?: Policy;
  privacy?: PrivacyClass;
  chain?: Chain;
  /** Reuse to make a retried submit return the same job (and never pay twice); generated when absent. */
  idempotencyKey?: string;
  /** This job's price limit (micro-USD), overriding the router's `maxPrice`. */
  maxPrice?: number;
  signal?: AbortSignal;
}

/** A committed job and what it took to commit it. */
export interface JobHandle {
  job_id: string;
  chain: Chain;
  job_type: JobType;
  tier: Tier;
  privacy: PrivacyClass;
  idempotencyKey: string;
  /** True once a payment signature was sent for this job: from then on nothing falls back. */
  paid: boolean;
}

export interface WaitOptions {
  chain?: Chain;
  /** Overall wait (ms); defaults to the per-type timeout when the job type is known, else 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A settled job whose receipt verified (or a hosted answer, which has none). */
export interface JobResult {
  route: Route;
  /** The coordinator's job id; null for hosted answers. */
  job_id: string | null;
  output: unknown;
  /** Verified by the SDK (ed25519 signature, output hash, job id); null for hosted answers. */
  receipt: ReceiptView | null;
  payment: PaymentView | null;
  /** Why the decentralized route was not used, when a hosted provider served the job. */
  fallback_reason?: string;
}

export interface LlmResult extends JobResult {
  text: string;
}

export interface RunLLMRequest {
  prompt: string;
  max_tokens?: number;
  system?: string;
  temperature?: number;
  policy?: Policy;
  privacy?: PrivacyClass;
  chain?: Chain;
  /** Receives streamed tokens (over SSE) as the worker produces them. */
  onToken?: (text: string) => void;
  /** Receives lifecycle updates (committed, assigned, fallback...), for progress displays. */
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  idempotencyKey?: string;
}

export interface ChatRequest {
  /** OpenAI-shaped messages: system/developer, user and assistant turns with text content. */
  messages: OpenAiMessage[];
  /** A model workers serve (see `models()`); any model when absent. */
  model?: string;
  max_tokens?: number;
  temperature?: number;
  /** Up to 4 sequences that end the answer (left out of it). */
  stop?: string | string[];
  /** `true`: return a ChatStream of text deltas instead of a promise of the whole answer. */
  stream?: boolean;
  policy?: Policy;
  privacy?: PrivacyClass;
  chain?: Chain;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  idempotencyKey?: string;
}

/** Token counts as OpenAI reports them; a count the backend did not report is null. */
export interface ChatUsage {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
}

/** A chat answer whose receipt verified (or a hosted answer, which has none). */
export interface ChatResult extends LlmResult {
  message: { role: "assistant"; content: string };
  /** The model that answered, as the worker (or hosted provider) named it. */
  model: string | null;
  finish_reason: "stop" | "length" | null;
  /** Null for hosted answers. */
  usage: ChatUsage | null;
}

/**
 * A streamed chat answer: iterate it for text deltas as the worker produces them. Together they
 * make the answer's text: what the live stream missed (it opened late, or the coordinator has
 * no event stream) arrives as one last delta. The iteration ends only after the receipt has
 * verified, and throws if it does not; `result` is the verified answer.
 */
export interface ChatStream extends AsyncIterable<string> {
  readonly result: Promise<ChatResult>;
}

export interface RunTaskRequest {
  task_type: TaskType;
  input: string;
  labels?: string[];
  schema?: Record<string, unknown>;
  max_sentences?: number;
  policy?: Policy;
  privacy?: PrivacyClass;
  chain?: Chain;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  idempotencyKey?: string;
}

export type ProgressEvent =
  | { type: "committed"; chain: Chain; job_id: string; paid: boolean }
  | { type: "paying"; chain: Chain }
  | { type: "stage"; chain: Chain; job_id: string; stage: string }
  | { type: "route_failed"; route: Route; code: string; message: string }
  | { type: "fallback"; route: HostedRoute; reason: string };
