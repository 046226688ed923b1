import { type Chain, PUBKEY_HEX, TrustCreateResponse, TrustListResponse } from "../protocol/index.ts";
import { type CoordinatorClient, errorFromResponse } from "./coordinator-client.ts";
import { DispatchError } from "./errors.ts";
import type { Identity } from "./types.ts";

export type TrustPairingCode = ReturnType<typeof TrustCreateResponse.parse>;
export type TrustedProviders = ReturnType<typeof TrustListResponse.parse>;

/**
 * Trust pairings of the router's identity: every call is signed, since pairings decide
 * which machines may see this user's PRIVATE jobs.
 */
export class TrustApi {
  readonly #client: (chain?: Chain) => CoordinatorClient;
  readonly #identity: Identity | undefined;

  constructor(client: (chain?: Chain) => CoordinatorClient, identity: Identity | undefined) {
    this.#client = client;
    this.#identity = identity;
  }

  /** A single-use pairing code for a worker to claim (expires in an hour). */
  async create(opts: { chain?: Chain } = {}): Promise<TrustPairingCode> {
    return this.#client(opts.chain).json(TrustCreateResponse, {
      method: "POST",
      path: "/v1/trust/create",
      body: { user_id: this.#userId() },
      sign: true,
      timeoutMs: 15_000,
    });
  }

  async list(opts: { chain?: Chain } = {}): Promise<TrustedProviders> {
    return this.#client(opts.chain).json(TrustListResponse, {
      method: "GET",
      path: "/v1/trust/list",
      query: { user_id: this.#userId() },
      sign: true,
      timeoutMs: 15_000,
    });
  }

  async revoke(providerPubkey: string, opts: { chain?: Chain } = {}): Promise<void> {
    if (!PUBKEY_HEX.test(providerPubkey)) {
      throw new DispatchError("invalid_request", "provider_pubkey must be 64 lowercase hex characters", { field: "provider_pubkey" });
    }
    this.#userId();
    const client = this.#client(opts.chain);
    const res = await client.send({ method: "DELETE", path: `/v1/trust/${providerPubkey}`, sign: true, timeoutMs: 15_000 });
    if (!res.ok) throw await errorFromResponse(res, client.chain);
    await res.body?.cancel();
  }

  #userId(): string {
    if (!this.#identity) {
      throw new DispatchError("identity_required", "trust pairings are signed by the seeker: give ComputeRouter an identity key");
    }
    return this.#identity.publicKey;
  }
}
