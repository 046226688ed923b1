/** Bounds shared by every side; the coordinator enforces them, clients may pre-check. */
export const LIMITS = {
  /** Largest HTTP request body accepted (bytes). */
  maxBodyBytes: 256 * 1024,
  /** Largest WebSocket frame accepted from a worker (bytes). */
  maxFrameBytes: 1024 * 1024,
  /** Largest prompt for LLM_INFER (characters); chat `messages` share this bound in total. */
  maxPromptChars: 32_000,
  /** Chat turns one LLM_INFER job may carry. */
  maxChatMessages: 256,
  /** Stop sequences per LLM job (OpenAI allows 4), and the length of each. */
  maxStopSequences: 4,
  maxStopChars: 64,
  /** Model name length (`llama3.2:3b`, `hf.co/org/repo:Q4_K_M`). */
  maxModelNameChars: 128,
  /** Model names one worker may advertise. */
  maxWorkerModels: 64,
  /** Largest TASK input text (characters). */
  maxTaskInputChars: 100_000,
  /** Largest max_tokens a seeker may ask for. */
  maxTokens: 4096,
  defaultMaxTokens: 256,
  /** user_id length bound; PRIVATE user ids are 64-hex public keys. */
  maxUserIdChars: 128,
  /** Pending or assigned jobs one user may hold at once (per chain). */
  maxPendingJobsPerUser: 64,
  /** Longest `?wait=` long-poll (seconds). */
  maxWaitSeconds: 60,
  /** Seconds a job may wait for a worker before it fails `no_eligible_worker`. */
  queueDeadlineSeconds: 30,
  /** Seconds a worker has to finish after assignment. */
  executionDeadlineSeconds: { TASK: 30, LLM_INFER: 60 } as const,
  /** Attempts (assignments) per job before it fails `worker_timeout`. */
  maxAttempts: 3,
  /** Pairing codes live this long (seconds). */
  pairingTtlSeconds: 3600,
  /** Pairing codes one user may create per hour. */
  pairingCreatesPerHour: 20,
  /** Active pairings one worker key may hold (users it serves PRIVATE jobs for). */
  maxPairingsPerWorker: 256,
  /** Seeker request signatures older or newer than this are refused (seconds). */
  signatureSkewSeconds: 300,
  /** Quotes are valid for this long (seconds). */
  quoteTtlSeconds: 300,
  /** Job slots a worker may advertise. */
  maxWorkerSlots: 16,
  /** Capabilities/labels list bounds. */
  maxCapabilities: 8,
  /** Idempotency-Key length bound. */
  maxIdempotencyKeyChars: 128,
  /** Deepest array/object nesting accepted in any JSON a client or worker sends (bodies, frames, outputs). */
  maxJsonDepth: 64,
  /** Deepest nesting of an `extract_json` JSON Schema. */
  maxSchemaDepth: 32,
  /** Serialized size of an `extract_json` JSON Schema (characters). */
  maxSchemaChars: 16_384,
  /** A job's whole life (queue, attempts, re-queues) is capped at this many seconds after commit. */
  maxJobLifetimeSeconds: 240,
  /** Rejections a job survives (each by a different worker) before it fails `no_eligible_worker`. */
  maxRejectsPerJob: 5,
  /** Seconds a reference worker has to send `receipt_submit` after a `job_complete` without a receipt. */
  receiptWaitSeconds: 10,
  /** A worker that registered without proof is offered its first job only after this (ms): reference workers attach their job handler late. */
  unverifiedFirstOfferMs: 2_000,
  /** A socket that has not registered within this many seconds is closed. */
  unregisteredSocketSeconds: 10,
  /** Sockets still in their handshake (not registered) per client address. */
  maxUnregisteredPerAddress: 16,
  /** Seeker nonce (`x-dispatch-nonce`) length bounds. */
  minNonceChars: 16,
  maxNonceChars: 64,
} as const;
