import { createPublicClient, http, type PublicClient, parseAbi, parseAbiItem } from "viem";
import type { PaymentPayload, PaymentRequirements } from "./x402.ts";

const EIP3009_ABI = parseAbi(["function authorizationState(address authorizer, bytes32 nonce) view returns (bool)"]);
const AUTHORIZATION_USED = parseAbiItem("event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)");
/** How far back to look for the transaction that used an authorization (its lifetime is minutes). */
const LOG_WINDOW_BLOCKS = 5_000n;

export type AuthorizationState =
  | { state: "used"; transaction: string | null }
  | { state: "unused"; validBefore: number }
  /** Not an EIP-3009 payment, or no RPC: the chain cannot be asked. */
  | { state: "unanswerable" };

/**
 * Asks the token contract whether an EIP-3009 authorization was used: the chain's own answer
 * to "did this settlement move the money?" when the facilitator's answer was lost.
 */
export class AuthorizationCheck {
  private readonly client: PublicClient;

  constructor(rpcUrl: string) {
    this.client = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000, retryCount: 0 }) });
  }

  async state(payload: PaymentPayload, requirements: PaymentRequirements): Promise<AuthorizationState> {
    const auth = (payload.payload as { authorization?: { from?: string; nonce?: string; validBefore?: string | number } }).authorization;
    if (!auth?.from || !auth.nonce) return { state: "unanswerable" };
    const token = requirements.asset as `0x${string}`;
    const from = auth.from as `0x${string}`;
    const nonce = auth.nonce as `0x${string}`;
    const used = await this.client.readContract({
      address: token,
      abi: EIP3009_ABI,
      functionName: "authorizationState",
      args: [from, nonce],
    });
    if (!used) return { state: "unused", validBefore: Number(auth.validBefore ?? 0) * 1000 };
    const latest = await this.client.getBlockNumber();
    const logs = await this.client.getLogs({
      address: token,
      event: AUTHORIZATION_USED,
      args: { authorizer: from, nonce },
      fromBlock: latest > LOG_WINDOW_BLOCKS ? latest - LOG_WINDOW_BLOCKS : 0n,
      toBlock: latest,
    });
    return { state: "used", transaction: logs[0]?.transactionHash ?? null };
  }
}
