/**
 * A local x402 v2 facilitator: `@x402/core`'s `x402Facilitator` with the exact EVM scheme (anvil) and the exact SVM
 * scheme (LiteSVM), served over HTTP with the endpoints and bodies `HTTPFacilitatorClient` speaks:
 * `GET /supported`, `POST /verify`, `POST /settle` (`{x402Version, paymentPayload, paymentRequirements}`).
 *
 * Verification outcomes, good or bad, are 200 with the scheme's own reason (`isValid`/`success` false), as hosted
 * facilitators answer. Malformed bodies and unsupported scheme/network pairs are 400 with the same response shape,
 * which `HTTPFacilitatorClient` turns into a `VerifyError` / `SettleError`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KeyPairSigner } from "@solana/kit";
import { x402Facilitator } from "@x402/core/facilitator";
import { PaymentPayloadV2Schema, PaymentRequirementsV2Schema } from "@x402/core/schemas";
import type { Network, PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { ExactSvmScheme } from "@x402/svm/exact/facilitator";
import type { Hex } from "viem";
import { NETWORKS } from "../protocol/chains.ts";
import { evmFacilitatorSigner, svmFacilitatorSigner } from "./facilitator-signers.ts";

/** x402 payloads are a few KB; anything much larger is not one. */
const MAX_BODY_BYTES = 64 * 1024;

export type FacilitatorOptions = {
  evm: { rpcUrl: string; chainId: number; privateKey: Hex };
  svm: { rpcUrl: string; feePayer: KeyPairSigner };
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Host to bind (default 127.0.0.1). */
  host?: string;
};

export type Facilitator = {
  url: string;
  facilitator: x402Facilitator;
  stop(): Promise<void>;
};

/**
 * Builds the x402 facilitator for both local chains. The schemes are registered for our two v2 networks only:
 * x402's `register*Scheme` helpers would also claim every v1 network name (base, solana, ...) for these signers.
 */
export function createLocalFacilitator(options: Pick<FacilitatorOptions, "evm" | "svm">): x402Facilitator {
  return new x402Facilitator()
    .register(NETWORKS.monad as Network, new ExactEvmScheme(evmFacilitatorSigner(options.evm)))
    .register(NETWORKS.solana as Network, new ExactSvmScheme(svmFacilitatorSigner(options.svm)));
}

/** Starts the facilitator HTTP service. */
export async function startFacilitator(options: FacilitatorOptions): Promise<Facilitator> {
  const facilitator = createLocalFacilitator(options);
  const server = createServer((req, res) => {
    route(facilitator, req, res).catch((err: unknown) => {
      // The schemes report chain failures as results; reaching here is a bug or a dead RPC, so say which.
      if (!res.headersSent) writeJson(res, 500, { error: "facilitator_error", message: (err as Error).message });
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    facilitator,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function route(facilitator: x402Facilitator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://local").pathname;
  if (req.method === "GET" && path === "/supported") return writeJson(res, 200, facilitator.getSupported());
  if (req.method === "GET" && path === "/health") return writeJson(res, 200, { status: "ok" });
  if (req.method === "POST" && (path === "/verify" || path === "/settle")) {
    const action = path === "/verify" ? "verify" : "settle";
    const refuse = (status: number, reason: string, message: string) =>
      writeJson(
        res,
        status,
        action === "verify"
          ? { isValid: false, invalidReason: reason, invalidMessage: message }
          : { success: false, errorReason: reason, errorMessage: message, transaction: "", network: "" },
      );
    const parsed = parseRequest(await readJson(req));
    if (!parsed.ok) return refuse(400, parsed.reason, parsed.message);
    const { paymentPayload, paymentRequirements } = parsed;
    const supported = facilitator
      .getSupported()
      .kinds.some((k) => k.scheme === paymentRequirements.scheme && k.network === paymentRequirements.network);
    if (!supported) {
      return refuse(
        400,
        "unsupported_scheme",
        `this facilitator settles ${describeKinds(facilitator)}; got ${paymentRequirements.scheme} on ${paymentRequirements.network}`,
      );
    }
    // The exact EVM scheme throws (rather than answering) on a payload of another family, e.g. an SVM
    // transaction checked against EVM requirements; that is the payer's mistake, so answer it as one.
    // (The SVM scheme answers such payloads itself, with its network-mismatch reason.)
    const shapeError = payloadShapeError(paymentPayload, paymentRequirements.network);
    if (shapeError) return refuse(200, "invalid_payload", shapeError);
    const result =
      action === "verify"
        ? await facilitator.verify(paymentPayload, paymentRequirements)
        : await facilitator.settle(paymentPayload, paymentRequirements);
    return writeJson(res, 200, result);
  }
  writeJson(res, 404, { error: "not_found", message: "endpoints: GET /supported, POST /verify, POST /settle" });
}

type ParsedRequest =
  | { ok: true; paymentPayload: PaymentPayload; paymentRequirements: PaymentRequirements }
  | { ok: false; reason: string; message: string };

function parseRequest(body: unknown): ParsedRequest {
  if (body === undefined) return { ok: false, reason: "invalid_payload", message: "the body must be JSON under 64 KB" };
  const { paymentPayload, paymentRequirements } = (body ?? {}) as { paymentPayload?: unknown; paymentRequirements?: unknown };
  // Only x402 v2: our networks are CAIP-2 ids, which v1 cannot name.
  const payload = PaymentPayloadV2Schema.safeParse(paymentPayload);
  if (!payload.success) return { ok: false, reason: "invalid_payload", message: `paymentPayload (x402 v2): ${payload.error.message}` };
  const requirements = PaymentRequirementsV2Schema.safeParse(paymentRequirements);
  if (!requirements.success) {
    return { ok: false, reason: "invalid_payment_requirements", message: `paymentRequirements (x402 v2): ${requirements.error.message}` };
  }
  // The schemas type networks as plain strings; x402's own types want `${string}:${string}`, which they are.
  return {
    ok: true,
    paymentPayload: payload.data as PaymentPayload,
    paymentRequirements: requirements.data as PaymentRequirements,
  };
}

function payloadShapeError(payload: PaymentPayload, network: string): string | undefined {
  const inner = payload.payload as Record<string, unknown>;
  const hasAuthorization = isObject(inner.authorization) || isObject(inner.permit2Authorization);
  if (network.startsWith("eip155:") && (typeof inner.signature !== "string" || !hasAuthorization)) {
    return `an exact EVM payment needs payload.signature (with an authorization or permit); this payload has ${Object.keys(inner).join(", ") || "no fields"}`;
  }
  return undefined;
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

function describeKinds(facilitator: x402Facilitator): string {
  return facilitator
    .getSupported()
    .kinds.map((k) => `${k.scheme} on ${k.network}`)
    .join(", ");
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Keep draining past the limit (rather than destroying the socket) so the caller still gets its 400.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
}
