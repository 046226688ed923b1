import { type ZodType, z } from "zod";
import {
  type Chain,
  ChatCompletion,
  ChatCompletionRequest,
  CommitBody,
  CommitResponse,
  DashboardSnapshot,
  ErrorBody,
  HealthResponse,
  JobView,
  LlmPayload,
  ModelsResponse,
  NETWORKS,
  OllamaChatRequest,
  OllamaDone,
  OllamaError,
  OllamaGenerateRequest,
  OllamaTags,
  OpenAiError,
  QuoteResponse,
  TaskPayload,
  TrustClaimBody,
  TrustClaimResponse,
  TrustCreateBody,
  TrustCreateResponse,
  TrustListResponse,
  WorkerAccount,
  WorkersResponse,
} from "../protocol/index.ts";

interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  body?: ZodType;
  response?: ZodType;
  /** The error body, when the surface speaks another dialect than ours. */
  error?: ZodType;
  status?: number;
  query?: Record<string, string>;
  signed?: "required" | "optional";
}

/** Every route of a chain API; a test checks the app serves exactly these. */
export const OPERATIONS: readonly Operation[] = [
  { method: "get", path: "/v1/health", summary: "Status, workers online by type, queue depth, payment mode", response: HealthResponse },
  {
    method: "get",
    path: "/v1/quote",
    summary: "Price, commit endpoint, resolved policy and x402 payment options",
    query: { job_type: "LLM_INFER | TASK", policy: "AUTO | FAST | CHEAP (default AUTO)" },
    response: QuoteResponse,
  },
  {
    method: "post",
    path: "/v1/jobs/commit/{tier}",
    summary:
      "Commit a job at the fast or cheap tier (Idempotency-Key supported; PRIVATE jobs must be signed). With ?wait=N (0-60 s): 200 and the finished job as GET /v1/jobs/{id} shows it if it finishes within N seconds, else 202 with the commit answer",
    query: { wait: "seconds, 0-60: answer with the finished job (200) or, if it takes longer, 202" },
    body: CommitBody,
    response: CommitResponse,
    status: 201,
    signed: "optional",
  },
  {
    method: "get",
    path: "/v1/jobs/{id}",
    summary: "Job status, result and receipt; ?wait=N long-polls up to N seconds",
    query: { wait: "seconds, 0-60" },
    response: JobView,
    signed: "optional",
  },
  {
    method: "get",
    path: "/v1/jobs/{id}/events",
    summary: "Server-Sent Events: `status` changes and streamed `token`s",
    signed: "optional",
  },
  { method: "get", path: "/v1/receipts/{id}", summary: "Receipt, signature and a fresh verification", signed: "optional" },
  {
    method: "post",
    path: "/v1/trust/create",
    summary: "Create a single-use pairing code (signed)",
    body: TrustCreateBody,
    response: TrustCreateResponse,
    status: 201,
    signed: "required",
  },
  {
    method: "post",
    path: "/v1/trust/claim",
    summary: "A worker claims a pairing code",
    body: TrustClaimBody,
    response: TrustClaimResponse,
  },
  {
    method: "get",
    path: "/v1/trust/list",
    summary: "Active pairings of the signing user",
    query: { user_id: "the signer" },
    response: TrustListResponse,
    signed: "required",
  },
  { method: "delete", path: "/v1/trust/{pubkey}", summary: "Revoke a pairing (signed)", signed: "required" },
  {
    method: "get",
    path: "/v1/workers",
    summary: "Workers online: type, capabilities, verification, ERC-8004 agent and reputation",
    response: WorkersResponse,
  },
  { method: "get", path: "/v1/workers/ws", summary: "WebSocket upgrade for workers (also accepted at the chain root)" },
  {
    method: "get",
    path: "/v1/workers/{pubkey}",
    summary: "One worker's earnings on this chain: earned, paid, pending, and its payout transactions",
    response: WorkerAccount,
  },
  {
    method: "get",
    path: "/v1/models",
    summary: "LLM models online workers serve now (OpenAI list shape, with worker and loaded counts)",
    response: ModelsResponse,
  },
  {
    method: "get",
    path: "/v1/dashboard",
    summary:
      "The live dashboard's snapshot: workers online (load, models, ERC-8004 identity, earnings), the 50 latest jobs (stage, latency, payment, receipt anchoring), queue depth, throughput and latency per 5 s over 5 minutes, payments and payouts, outbox health. Bounded: at most 200 workers listed (the rest counted)",
    response: DashboardSnapshot,
  },
  {
    method: "get",
    path: "/v1/dashboard/events",
    summary:
      "Server-Sent Events of the dashboard: a `snapshot` event (as GET /v1/dashboard) every 1.5 s when something changed, a `ping` when nothing did for 15 s. Holds one of the client address's long-poll slots while open",
  },
  {
    method: "get",
    path: "/dashboard",
    summary:
      "The live dashboard page (HTML; switches between chains; bare /dashboard is Monad). Its script and stylesheet are /dashboard/app.js and /dashboard/app.css",
  },
  { method: "get", path: "/v1/openapi.json", summary: "This document" },
  {
    method: "post",
    path: "/v1/chat/completions",
    summary:
      "OpenAI-compatible chat completion as an LLM_INFER job (FAST; service_tier flex or x-dispatch-tier: cheap for CHEAP). stream: true answers Server-Sent Events of chat.completion.chunk objects, a usage chunk with stream_options.include_usage, then [DONE]; the last chunk carries `dispatch` (job id and signed receipt). Unstreamed: x-dispatch-job-id and x-dispatch-receipt headers. Signed requests run as the signer's PRIVATE jobs. Errors in OpenAI's shape",
    body: ChatCompletionRequest,
    response: ChatCompletion,
    error: OpenAiError,
    signed: "optional",
  },
  { method: "get", path: "/api/version", summary: "Ollama-compatible: the Ollama API level these /api routes follow" },
  {
    method: "get",
    path: "/api/tags",
    summary: "Ollama-compatible: the models online workers serve",
    response: OllamaTags,
    error: OllamaError,
  },
  {
    method: "post",
    path: "/api/chat",
    summary:
      "Ollama-compatible chat as an LLM_INFER job (FAST, or x-dispatch-tier: cheap). Streams NDJSON lines ({message, done: false}, then a done: true line with counts, nanosecond durations and `dispatch`) unless stream: false",
    body: OllamaChatRequest,
    response: OllamaDone,
    error: OllamaError,
    signed: "optional",
  },
  {
    method: "post",
    path: "/api/generate",
    summary:
      "Ollama-compatible completion of a prompt as an LLM_INFER job, streamed as NDJSON ({response, done: false} lines, then done: true) unless stream: false; without a prompt, Ollama's model-load answer",
    body: OllamaGenerateRequest,
    response: OllamaDone,
    error: OllamaError,
    signed: "optional",
  },
];

function schema(s: ZodType): unknown {
  return z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
}

export function openApiDocument(chain: Chain): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const entry: Record<string, unknown> = {
      summary: op.summary,
      parameters: [
        ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } })),
        ...Object.entries(op.query ?? {}).map(([name, description]) => ({ name, in: "query", description, schema: { type: "string" } })),
      ],
      responses: {
        [String(op.status ?? 200)]: {
          description: "success",
          ...(op.response ? { content: { "application/json": { schema: schema(op.response) } } } : {}),
        },
        default: { description: "error", content: { "application/json": { schema: schema(op.error ?? ErrorBody) } } },
      },
    };
    if (op.body) entry.requestBody = { required: true, content: { "application/json": { schema: schema(op.body) } } };
    if (op.signed) entry["x-dispatch-signature"] = op.signed;
    paths[`/${chain}${op.path}`] = { ...(paths[`/${chain}${op.path}`] ?? {}), [op.method]: entry };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: `Dispatch coordinator (${chain})`,
      version: "1",
      description: `Network ${NETWORKS[chain]}. Errors are {error: code, message}. Signed requests carry x-dispatch-user, x-dispatch-timestamp and x-dispatch-signature.`,
    },
    components: { schemas: { LlmPayload: schema(LlmPayload), TaskPayload: schema(TaskPayload) } },
    paths,
  };
}
