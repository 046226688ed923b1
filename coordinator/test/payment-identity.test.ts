import { describe, expect, it } from "vitest";
import { paymentIdentity, transactionMessage } from "../payments/payment-identity.ts";
import type { PaymentPayload, PaymentRequirements } from "../payments/x402.ts";

const evmRequirements = { network: "eip155:10143", asset: "0xAbCdEf0000000000000000000000000000000001" } as unknown as PaymentRequirements;
const authorization = {
  from: "0x1111111111111111111111111111111111111111",
  to: "0x2222222222222222222222222222222222222222",
  value: "1000",
  validAfter: "0",
  validBefore: "9999999999",
  nonce: "0x00ab00000000000000000000000000000000000000000000000000000000cdef",
};
const evm = (payload: Record<string, unknown>) => ({ x402Version: 2, payload }) as unknown as PaymentPayload;

describe("payment identity", () => {
  it("is what the chain enforces: the same EIP-3009 authorization however it is spelled", () => {
    const base = paymentIdentity(evm({ authorization, signature: "0xaa" }), evmRequirements);
    expect(base).not.toBeNull();
    const variants = [
      evm({ authorization, signature: "0xaa", note: "extra field" }),
      evm({ authorization: { ...authorization, from: authorization.from.toUpperCase().replace("0X", "0x") }, signature: "0xaa" }),
      evm({ authorization: { ...authorization, nonce: authorization.nonce.toUpperCase().replace("0X", "0x") }, signature: "0xbb" }),
    ];
    for (const v of variants) expect(paymentIdentity(v, evmRequirements)).toBe(base);
    // Another nonce is another payment.
    expect(paymentIdentity(evm({ authorization: { ...authorization, nonce: "0x01" }, signature: "0xaa" }), evmRequirements)).not.toBe(base);
  });

  it("is a Solana transaction's message, whatever signatures ride along", () => {
    const message = new Uint8Array([1, 2, 3, 4, 5]);
    const wire = (sig: number) => Buffer.from([1, ...new Array(64).fill(sig), ...message]).toString("base64");
    const requirements = { network: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", asset: "mint" } as unknown as PaymentRequirements;
    const id = (tx: string) => paymentIdentity({ x402Version: 2, payload: { transaction: tx } } as unknown as PaymentPayload, requirements);
    expect(id(wire(7))).toBe(id(wire(9)));
    expect(transactionMessage(wire(7))).toEqual(message);
    expect(id("not base64 at all!")).toBeNull();
  });

  it("refuses a payload that names no payer or nonce", () => {
    expect(paymentIdentity(evm({ signature: "0xaa" }), evmRequirements)).toBeNull();
  });

  it("refuses a nonce longer than any uint256 before parsing it (a decimal BigInt of 100,000 digits)", () => {
    const decimal = BigInt(authorization.nonce).toString(10);
    expect(paymentIdentity(evm({ authorization: { ...authorization, nonce: decimal }, signature: "0xaa" }), evmRequirements)).toBe(
      paymentIdentity(evm({ authorization, signature: "0xaa" }), evmRequirements),
    );
    expect(
      paymentIdentity(evm({ authorization: { ...authorization, nonce: "9".repeat(100_000) }, signature: "0xaa" }), evmRequirements),
    ).toBeNull();
  });
});
