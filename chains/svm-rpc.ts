/**
 * A small Solana JSON-RPC endpoint over an in-process LiteSVM: the subset that `@solana/kit` clients, the x402
 * SVM client (mint lookup, blockhash) and the x402 SVM facilitator signer (simulate, send, confirm, balances) call.
 * It answers in the wire format of a real validator, so x402 code runs unchanged against it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Address,
  getBase58Decoder,
  getBase58Encoder,
  getBase64EncodedWireTransaction,
  getTransactionDecoder,
  lamports,
  type Transaction,
} from "@solana/kit";
import type { FailedTransactionMetadata, LiteSVM, TransactionMetadata } from "litesvm";
import { TOKEN_ACCOUNT_SIZE } from "./svm-accounts.ts";

/** Requests larger than this are refused; a Solana transaction is at most 1,232 bytes. */
const MAX_BODY_BYTES = 256 * 1024;
/** How many blocks a blockhash stays valid on a real cluster; reported as `lastValidBlockHeight`. */
const BLOCKHASH_VALIDITY = 150n;
/** Genesis hash of Solana devnet, whose CAIP-2 id (`solana:EtWT...`) this stand-in answers for. */
const DEVNET_GENESIS_HASH = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG";

type RpcError = { code: number; message: string; data?: unknown };
class RpcFailure extends Error {
  readonly code: number;
  readonly data?: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

type SentTransaction = { slot: bigint; err: unknown; logs: string[]; wire: string; fee: bigint };

export type SvmRpcServer = {
  url: string;
  /** Signatures landed through this endpoint, newest last (tests and diagnostics). */
  sent: ReadonlyMap<string, SentTransaction>;
  stop(): Promise<void>;
};

/** Serves JSON-RPC for `svm` on a free localhost port. */
export async function startSvmRpcServer(svm: LiteSVM): Promise<SvmRpcServer> {
  const sent = new Map<string, SentTransaction>();
  const handlers = rpcHandlers(svm, sent);
  const server = createServer((req, res) => {
    handleHttp(req, res, handlers).catch((err: unknown) => {
      if (!res.headersSent) writeJson(res, 500, { jsonrpc: "2.0", id: null, error: { code: -32603, message: String(err) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Handler = (params: unknown[]) => unknown;

async function handleHttp(req: IncomingMessage, res: ServerResponse, handlers: Record<string, Handler>): Promise<void> {
  if (req.method !== "POST") return writeJson(res, 405, { error: "POST JSON-RPC requests to this endpoint" });
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    return writeJson(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: `parse error: ${(err as Error).message}` } });
  }
  const answer = Array.isArray(body) ? body.map((call) => dispatch(call, handlers)) : dispatch(body, handlers);
  writeJson(res, 200, answer);
}

function dispatch(call: unknown, handlers: Record<string, Handler>): unknown {
  const request = call as { id?: unknown; method?: unknown; params?: unknown };
  const id = request?.id ?? null;
  if (typeof request?.method !== "string") return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request" } };
  const handler = handlers[request.method];
  if (!handler) return { jsonrpc: "2.0", id, error: { code: -32601, message: `Method not found: ${request.method}` } };
  const params = Array.isArray(request.params) ? request.params : [];
  try {
    return { jsonrpc: "2.0", id, result: handler(params) };
  } catch (err) {
    const error: RpcError =
      err instanceof RpcFailure
        ? { code: err.code, message: err.message, data: err.data }
        : { code: -32602, message: `Invalid params: ${(err as Error).message}` };
    return { jsonrpc: "2.0", id, error };
  }
}

function rpcHandlers(svm: LiteSVM, sent: Map<string, SentTransaction>): Record<string, Handler> {
  const slot = () => svm.getClock().slot;
  const context = () => ({ slot: slot(), apiVersion: "2.2.0" });
  const account = (address: string, encoding: string) => encodeAccount(svm, address, encoding);

  return {
    getHealth: () => "ok",
    getVersion: () => ({ "solana-core": "2.2.0-litesvm", "feature-set": 0 }),
    getGenesisHash: () => DEVNET_GENESIS_HASH,
    getSlot: () => slot(),
    getBlockHeight: () => slot(),
    getLatestBlockhash: () => ({
      context: context(),
      value: { blockhash: svm.latestBlockhash(), lastValidBlockHeight: slot() + BLOCKHASH_VALIDITY },
    }),
    isBlockhashValid: ([blockhash]) => ({ context: context(), value: blockhash === svm.latestBlockhash() }),
    getMinimumBalanceForRentExemption: ([size]) => svm.minimumBalanceForRentExemption(BigInt(size as number)),
    getFeeForMessage: () => ({ context: context(), value: 5000 }),
    getRecentPrioritizationFees: () => [],
    getBalance: ([address]) => ({ context: context(), value: svm.getBalance(asAddress(address)) ?? 0n }),
    getAccountInfo: ([address, config]) => ({ context: context(), value: account(asString(address), encodingOf(config)) }),
    getMultipleAccounts: ([addresses, config]) => ({
      context: context(),
      value: (addresses as unknown[]).map((a) => account(asString(a), encodingOf(config))),
    }),
    getTokenAccountBalance: ([address]) => ({ context: context(), value: tokenBalance(svm, asString(address)) }),
    requestAirdrop: ([address, amount]) => {
      const result = svm.airdrop(asAddress(address), lamports(BigInt(amount as number)));
      if (!result || isFailed(result)) throw new RpcFailure(-32603, `airdrop failed: ${result ? describeFailure(result) : "no result"}`);
      return base58(result.signature());
    },
    simulateTransaction: ([wire, config]) => {
      const options = (config ?? {}) as {
        encoding?: string;
        sigVerify?: boolean;
        replaceRecentBlockhash?: boolean;
        innerInstructions?: boolean;
      };
      const tx = decodeTransaction(asString(wire), options.encoding);
      const outcome = simulate(svm, tx, {
        sigVerify: options.sigVerify ?? false,
        replaceBlockhash: options.replaceRecentBlockhash ?? false,
      });
      const meta = isFailed(outcome) ? outcome.meta() : outcome;
      return {
        context: context(),
        value: {
          err: isFailed(outcome) ? transactionError(outcome) : null,
          logs: meta.logs(),
          unitsConsumed: meta.computeUnitsConsumed(),
          accounts: null,
          returnData: null,
          innerInstructions: options.innerInstructions ? innerInstructions(meta) : undefined,
        },
      };
    },
    sendTransaction: ([wire, config]) => {
      const options = (config ?? {}) as { encoding?: string; skipPreflight?: boolean };
      const tx = decodeTransaction(asString(wire), options.encoding);
      const signature = firstSignature(tx);
      // A real cluster refuses a transaction it has already processed instead of landing it twice.
      if (sent.has(signature)) {
        throw new RpcFailure(
          -32002,
          "Transaction simulation failed: This transaction has already been processed",
          preflightFailure("AlreadyProcessed", []),
        );
      }
      if (!options.skipPreflight) {
        const preflight = simulate(svm, tx, { sigVerify: true, replaceBlockhash: false });
        if (isFailed(preflight)) {
          throw new RpcFailure(
            -32002,
            `Transaction simulation failed: ${JSON.stringify(transactionError(preflight))}`,
            preflightFailure(transactionError(preflight), preflight.meta().logs()),
          );
        }
      }
      const outcome = svm.sendTransaction(tx);
      const meta = isFailed(outcome) ? outcome.meta() : outcome;
      sent.set(signature, {
        slot: slot(),
        err: isFailed(outcome) ? transactionError(outcome) : null,
        logs: meta.logs(),
        wire: getBase64EncodedWireTransaction(tx),
        fee: 5000n,
      });
      return signature;
    },
    getSignatureStatuses: ([signatures]) => ({
      context: context(),
      value: (signatures as unknown[]).map((s) => {
        const landed = sent.get(asString(s));
        if (!landed) return null;
        return {
          slot: landed.slot,
          confirmations: null,
          err: landed.err,
          status: landed.err ? { Err: landed.err } : { Ok: null },
          confirmationStatus: "finalized",
        };
      }),
    }),
    getTransaction: ([signature]) => {
      const landed = sent.get(asString(signature));
      if (!landed) return null;
      return {
        slot: landed.slot,
        blockTime: Math.floor(Date.now() / 1000),
        version: 0,
        transaction: [landed.wire, "base64"],
        meta: {
          err: landed.err,
          status: landed.err ? { Err: landed.err } : { Ok: null },
          fee: landed.fee,
          logMessages: landed.logs,
          innerInstructions: [],
          preBalances: [],
          postBalances: [],
          preTokenBalances: [],
          postTokenBalances: [],
          rewards: [],
        },
      };
    },
  };
}

function simulate(
  svm: LiteSVM,
  tx: Transaction,
  options: { sigVerify: boolean; replaceBlockhash: boolean },
): FailedTransactionMetadata | TransactionMetadata {
  // Simulation may skip signature and blockhash checks (the facilitator simulates before adding the fee
  // payer's signature). LiteSVM has no per-call switch, so flip its global ones for this synchronous call.
  svm.withSigverify(options.sigVerify).withBlockhashCheck(!options.replaceBlockhash);
  try {
    const result = svm.simulateTransaction(tx);
    return isFailed(result) ? result : result.meta();
  } finally {
    svm.withSigverify(true).withBlockhashCheck(true);
  }
}

/** A failed preflight's `data`, shaped like a simulation result as validators send it (kit parses `err` from it). */
function preflightFailure(err: unknown, logs: string[]) {
  return { err, logs, accounts: null, unitsConsumed: 0, returnData: null };
}

function isFailed(result: object): result is FailedTransactionMetadata {
  return typeof (result as { err?: unknown }).err === "function";
}

/**
 * The RPC's `TransactionError` JSON (`"AlreadyProcessed"`, `{"InstructionError": [2, {"Custom": 1}]}`) from
 * LiteSVM's native error objects. Their fieldless variants are const enums with no runtime names, so names come
 * from the Rust debug text.
 */
function transactionError(failed: FailedTransactionMetadata): unknown {
  const err = failed.err() as unknown;
  if (typeof err === "number") return describeFailure(failed);
  const instruction = err as { index?: number; err?: () => unknown };
  if (typeof instruction.index === "number" && typeof instruction.err === "function") {
    const inner = instruction.err() as { code?: number } | number;
    if (typeof inner === "object" && typeof inner.code === "number")
      return { InstructionError: [instruction.index, { Custom: inner.code }] };
    const name = /error: (\w+)/.exec(String(err))?.[1] ?? String(inner);
    return { InstructionError: [instruction.index, name] };
  }
  return String(err);
}

function describeFailure(failed: FailedTransactionMetadata): string {
  const text = failed.toString();
  return /err: (\w+)/.exec(text)?.[1] ?? text.slice(0, 200);
}

function innerInstructions(meta: TransactionMetadata) {
  return meta.innerInstructions().map((group, index) => ({
    index,
    instructions: group.map((inner) => {
      const ix = inner.instruction();
      return {
        programIdIndex: ix.programIdIndex(),
        accounts: Array.from(ix.accounts()),
        data: base58(ix.data()),
        stackHeight: inner.stackHeight(),
      };
    }),
  }));
}

function encodeAccount(svm: LiteSVM, address: string, encoding: string) {
  const account = svm.getAccount(asAddress(address));
  if (!account.exists) return null;
  const data = account.data as Uint8Array;
  const base = {
    executable: account.executable,
    lamports: account.lamports as bigint,
    owner: account.programAddress as string,
    rentEpoch: 0n,
    space: BigInt(data.length),
  };
  if (encoding === "jsonParsed" && data.length === TOKEN_ACCOUNT_SIZE) {
    const balance = tokenBalance(svm, address);
    return {
      ...base,
      data: {
        program: "spl-token",
        space: data.length,
        parsed: {
          type: "account",
          info: { mint: base58(data.subarray(0, 32)), owner: base58(data.subarray(32, 64)), tokenAmount: balance, state: "initialized" },
        },
      },
    };
  }
  if (encoding === "base58") return { ...base, data: [base58(data), "base58"] };
  return { ...base, data: [base64(data), "base64"] };
}

function tokenBalance(svm: LiteSVM, address: string) {
  const account = svm.getAccount(asAddress(address));
  const data = account.exists ? (account.data as Uint8Array) : undefined;
  if (!data || data.length !== TOKEN_ACCOUNT_SIZE) {
    throw new RpcFailure(-32602, `Invalid param: could not find account or not a token account: ${address}`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const amount = view.getBigUint64(64, true);
  const mint = svm.getAccount(asAddress(base58(data.subarray(0, 32))));
  // Mint layout: COption<authority> (36) + supply (8) + decimals (1).
  const decimals = mint.exists ? ((mint.data as Uint8Array)[44] ?? 0) : 0;
  const ui = Number(amount) / 10 ** decimals;
  return { amount: amount.toString(), decimals, uiAmount: ui, uiAmountString: String(ui) };
}

function decodeTransaction(wire: string, encoding = "base58"): Transaction {
  const bytes = encoding === "base64" ? Uint8Array.from(Buffer.from(wire, "base64")) : getBase58Encoder().encode(wire);
  return getTransactionDecoder().decode(bytes) as Transaction;
}

function firstSignature(tx: Transaction): string {
  const first = Object.values(tx.signatures)[0];
  // A validator's answer to an unsigned slot (kit decodes an all-zero signature as missing).
  if (!first) throw new RpcFailure(-32003, "Transaction signature verification failure");
  return base58(first);
}

function encodingOf(config: unknown): string {
  return (config as { encoding?: string } | undefined)?.encoding ?? "base58";
}

function asString(value: unknown): string {
  if (typeof value !== "string") throw new Error(`expected a string, got ${typeof value}`);
  return value;
}

function asAddress(value: unknown): Address {
  return asString(value) as Address;
}

function base58(bytes: Uint8Array): string {
  return getBase58Decoder().decode(bytes);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

// u64 values (lamports, slots) must reach the client exactly, so bigints are written as bare JSON numbers.
function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const marker = "__bigint__";
  const text = JSON.stringify(body, (_, v) => (typeof v === "bigint" ? `${marker}${v}` : v)).replace(
    new RegExp(`"${marker}(-?\\d+)"`, "g"),
    "$1",
  );
  res.writeHead(status, { "content-type": "application/json" });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
