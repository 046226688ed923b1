import { type Address, type Hex, hexToSignature, keccak256, parseEventLogs, stringToHex } from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localUsdcAbi } from "./artifacts/abis.ts";
import { devAccount, startTestChain, type TestChain } from "./test-chain.ts";

const USDC = 1_000_000n;

describe("LocalUsdc (EIP-3009)", () => {
  let chain: TestChain;
  let usdc: { address: Address; abi: typeof localUsdcAbi };
  // Account 1 is a seeker funded at deployment; 2 is the payee (worker pool); 3 a facilitator paying gas.
  const seeker = () => chain.account(1);
  const payee = () => chain.account(2);
  const facilitator = () => chain.account(3);
  let nonceCounter = 0;
  const freshNonce = (): Hex => keccak256(stringToHex(`nonce-${nonceCounter++}-${Date.now()}`));

  beforeAll(async () => {
    chain = await startTestChain({ seekers: [devAccount(1).address], usdcPerSeeker: 100n * USDC });
    usdc = { address: chain.deployment.usdc, abi: localUsdcAbi };
  });
  afterAll(() => chain?.stop());

  type Authorization = { from: Address; to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex };

  function authorization(overrides: Partial<Authorization> = {}): Authorization {
    return {
      from: seeker().address,
      to: payee().address,
      value: 2n * USDC,
      validAfter: chain.now() - 60n,
      validBefore: chain.now() + 600n,
      nonce: freshNonce(),
      ...overrides,
    };
  }

  function sign(signer: HDAccount, primaryType: "TransferWithAuthorization" | "ReceiveWithAuthorization", message: Authorization) {
    return signer.signTypedData({
      domain: { name: "USD Coin", version: "2", chainId: chain.anvil.chainId, verifyingContract: usdc.address },
      types: {
        [primaryType]: [
          { name: "from", type: "address" },
          { name: "to", type: "address" },
          { name: "value", type: "uint256" },
          { name: "validAfter", type: "uint256" },
          { name: "validBefore", type: "uint256" },
          { name: "nonce", type: "bytes32" },
        ],
      },
      primaryType,
      message,
    } as never);
  }

  // Submitted the way x402 facilitators do for EOAs: split v, r, s, from an account that pays the gas.
  async function submitVrs(auth: Authorization, signature: Hex, submitter: HDAccount = facilitator()) {
    const { v, r, s } = hexToSignature(signature);
    return chain.write(submitter, {
      ...usdc,
      functionName: "transferWithAuthorization",
      args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, Number(v), r, s],
    });
  }

  const balance = (address: Address) => chain.read({ ...usdc, functionName: "balanceOf", args: [address] });
  const used = (auth: Authorization) => chain.read({ ...usdc, functionName: "authorizationState", args: [auth.from, auth.nonce] });

  it("looks like USDC to EIP-712 signers: name, version, 6 decimals, funded seekers", async () => {
    expect(await chain.read({ ...usdc, functionName: "name", args: [] })).toBe("USD Coin");
    expect(await chain.read({ ...usdc, functionName: "version", args: [] })).toBe("2");
    expect(await chain.read({ ...usdc, functionName: "decimals", args: [] })).toBe(6);
    const [, name, version, chainId, verifyingContract] = await chain.read({
      ...usdc,
      functionName: "eip712Domain",
      args: [],
    });
    expect({ name, version, chainId, verifyingContract }).toEqual({
      name: "USD Coin",
      version: "2",
      chainId: BigInt(chain.anvil.chainId),
      verifyingContract: usdc.address,
    });
    expect(await balance(seeker().address)).toBe(100n * USDC);
  });

  it("moves funds on a signed transferWithAuthorization submitted by a third party", async () => {
    const auth = authorization();
    const before = { seeker: await balance(seeker().address), payee: await balance(payee().address) };
    const logs = await submitVrs(auth, await sign(seeker(), "TransferWithAuthorization", auth));
    expect(await balance(seeker().address)).toBe(before.seeker - auth.value);
    expect(await balance(payee().address)).toBe(before.payee + auth.value);
    expect(await used(auth)).toBe(true);
    const [usedEvent] = parseEventLogs({ abi: localUsdcAbi, logs, eventName: "AuthorizationUsed" });
    expect(usedEvent?.args).toEqual({ authorizer: auth.from, nonce: auth.nonce });
  });

  it("accepts the signature-bytes overload too", async () => {
    const auth = authorization({ value: 1n });
    const signature = await sign(seeker(), "TransferWithAuthorization", auth);
    await chain.write(facilitator(), {
      ...usdc,
      functionName: "transferWithAuthorization",
      args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, signature],
    });
    expect(await used(auth)).toBe(true);
  });

  it("refuses to replay a used nonce", async () => {
    const auth = authorization();
    const signature = await sign(seeker(), "TransferWithAuthorization", auth);
    await submitVrs(auth, signature);
    const afterFirst = await balance(seeker().address);
    await expect(submitVrs(auth, signature)).rejects.toThrow(/AuthorizationAlreadyUsed/);
    expect(await balance(seeker().address)).toBe(afterFirst);
  });

  it("refuses expired and not-yet-valid authorizations", async () => {
    const expired = authorization({ validAfter: 0n, validBefore: chain.now() - 1n });
    await expect(submitVrs(expired, await sign(seeker(), "TransferWithAuthorization", expired))).rejects.toThrow(/AuthorizationExpired/);
    const early = authorization({ validAfter: chain.now() + 3600n, validBefore: chain.now() + 7200n });
    await expect(submitVrs(early, await sign(seeker(), "TransferWithAuthorization", early))).rejects.toThrow(/AuthorizationNotYetValid/);
    expect(await used(expired)).toBe(false);
  });

  it("refuses a signature that does not match the terms or the payer", async () => {
    const auth = authorization();
    const signature = await sign(seeker(), "TransferWithAuthorization", auth);
    await expect(submitVrs({ ...auth, value: auth.value * 10n }, signature)).rejects.toThrow(/InvalidSignature/);
    await expect(submitVrs({ ...auth, to: facilitator().address }, signature)).rejects.toThrow(/InvalidSignature/);
    const forged = await sign(facilitator(), "TransferWithAuthorization", auth);
    await expect(submitVrs(auth, forged)).rejects.toThrow(/InvalidSignature/);
    // A transfer signature is not a receive signature (different type hash).
    const { v, r, s } = hexToSignature(signature);
    await expect(
      chain.write(payee(), {
        ...usdc,
        functionName: "receiveWithAuthorization",
        args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, Number(v), r, s],
      }),
    ).rejects.toThrow(/InvalidSignature/);
  });

  it("lets only the payee submit receiveWithAuthorization", async () => {
    const auth = authorization();
    const { v, r, s } = hexToSignature(await sign(seeker(), "ReceiveWithAuthorization", auth));
    const call = {
      ...usdc,
      functionName: "receiveWithAuthorization",
      args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, Number(v), r, s],
    } as const;
    await expect(chain.write(facilitator(), call)).rejects.toThrow(/CallerMustBePayee/);
    const before = await balance(payee().address);
    await chain.write(payee(), call);
    expect(await balance(payee().address)).toBe(before + auth.value);
  });

  it("cancelAuthorization burns a nonce so its transfer can never run", async () => {
    const auth = authorization();
    const transferSignature = await sign(seeker(), "TransferWithAuthorization", auth);
    const cancelSignature = await seeker().signTypedData({
      domain: { name: "USD Coin", version: "2", chainId: chain.anvil.chainId, verifyingContract: usdc.address },
      types: {
        CancelAuthorization: [
          { name: "authorizer", type: "address" },
          { name: "nonce", type: "bytes32" },
        ],
      },
      primaryType: "CancelAuthorization",
      message: { authorizer: auth.from, nonce: auth.nonce },
    });
    const { v, r, s } = hexToSignature(cancelSignature);
    const logs = await chain.write(facilitator(), {
      ...usdc,
      functionName: "cancelAuthorization",
      args: [auth.from, auth.nonce, Number(v), r, s],
    });
    expect(parseEventLogs({ abi: localUsdcAbi, logs, eventName: "AuthorizationCanceled" })).toHaveLength(1);
    expect(await used(auth)).toBe(true);
    await expect(submitVrs(auth, transferSignature)).rejects.toThrow(/AuthorizationAlreadyUsed/);
  });

  it("mints only for the owner", async () => {
    const mint = { ...usdc, functionName: "mint", args: [payee().address, USDC] } as const;
    await expect(chain.write(payee(), mint)).rejects.toThrow(/OwnableUnauthorizedAccount/);
    const before = await balance(payee().address);
    await chain.write(chain.account(0), mint);
    expect(await balance(payee().address)).toBe(before + USDC);
  });
});
