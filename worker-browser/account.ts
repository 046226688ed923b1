import { WorkerAccount } from "../protocol/index.ts";

/** `GET /{chain}/v1/workers/{pubkey}`: what this key earned, was paid, and still has pending on the chain. */
export async function fetchAccount(origin: string, chain: string, pubkey: string): Promise<WorkerAccount> {
  const res = await fetch(`${origin}/${chain}/v1/workers/${pubkey}`, { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`earnings: HTTP ${res.status}`);
  const parsed = WorkerAccount.safeParse(await res.json());
  if (!parsed.success) throw new Error("earnings: unexpected answer from the coordinator");
  return parsed.data;
}

/** Micro-USD as USDC with six decimals: the ledger's unit, shown exactly. */
export function usdc(micro: number): string {
  const sign = micro < 0 ? "-" : "";
  const abs = Math.abs(micro);
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, "0")}`;
}

/** The coordinator's own check, so a typo is caught before connecting. */
export { isPayoutAddress } from "../protocol/index.ts";
