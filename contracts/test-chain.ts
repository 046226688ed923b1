/** Test fixture: a fresh anvil with all contracts deployed, plus helpers to act as its dev accounts. */
import {
  type Abi,
  type Account,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type Log,
  type PublicClient,
  toHex,
} from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { ANVIL_MNEMONIC, type Anvil, startAnvil } from "./anvil.ts";
import { type Deployment, type DeployOptions, deployAll, localChain } from "./deploy.ts";

export type TestChain = {
  anvil: Anvil;
  deployment: Deployment;
  publicClient: PublicClient;
  /** anvil dev account `index`; index 0 is the deployer (contract owner, sole anchorer). */
  account(index: number): HDAccount;
  /** Sends a contract call as `account`, waits for it and fails unless it succeeded; returns the logs. */
  write<const abi extends Abi, name extends ContractFunctionName<abi, "nonpayable" | "payable">>(
    account: Account,
    call: {
      address: Address;
      abi: abi;
      functionName: name;
      args: ContractFunctionArgs<abi, "nonpayable" | "payable", name>;
    },
  ): Promise<Log[]>;
  /** Typed eth_call of a view function. */
  read<
    const abi extends Abi,
    name extends ContractFunctionName<abi, "view" | "pure">,
    const args extends ContractFunctionArgs<abi, "view" | "pure", name>,
  >(call: {
    address: Address;
    abi: abi;
    functionName: name;
    args: args;
  }): Promise<ContractFunctionReturnType<abi, "view" | "pure", name, args>>;
  /** Wall-clock seconds, which is what anvil stamps blocks with (tests never time-travel). */
  now(): bigint;
  stop(): Promise<void>;
};

export function devAccount(index: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

export function devPrivateKey(index: number): Hex {
  const key = devAccount(index).getHdKey().privateKey;
  if (!key) throw new Error(`no private key for dev account ${index}`);
  return toHex(key);
}

export async function startTestChain(options: DeployOptions = {}): Promise<TestChain> {
  const anvil = await startAnvil();
  try {
    const deployment = await deployAll(anvil.rpcUrl, devPrivateKey(0), options);
    const chain = localChain(anvil.chainId, anvil.rpcUrl);
    const publicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl) });
    return {
      anvil,
      deployment,
      publicClient,
      account: devAccount,
      async write(account, call) {
        const wallet = createWalletClient({ account, chain, transport: http(anvil.rpcUrl) });
        // Casts: viem's overload-aware parameter types cannot be re-expressed generically here.
        const hash = await wallet.writeContract(call as never);
        const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
        if (receipt.status !== "success") throw new Error(`${String(call.functionName)} reverted (tx ${hash})`);
        return receipt.logs;
      },
      read: (call) => publicClient.readContract(call as never),
      now: () => BigInt(Math.floor(Date.now() / 1000)),
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
