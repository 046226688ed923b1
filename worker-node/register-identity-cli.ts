#!/usr/bin/env node
// `npm run worker:register-identity -- ...`: registers this worker's ERC-8004 agent identity
// and links its ed25519 key as `dispatch.ed25519` metadata, so coordinators can trust it.
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Address, Hex } from "viem";
import { registerIdentity } from "./identity-registration.ts";
import { loadOrCreateKey } from "./key-file.ts";

const HELP = `Register the worker's ERC-8004 agent identity and link its ed25519 key.

Usage: npm run worker:register-identity -- [options]

  --rpc URL            EVM JSON-RPC of the trust layer          env DISPATCH_EVM_RPC
  --registry ADDRESS   IdentityRegistry contract address        env DISPATCH_IDENTITY_REGISTRY
  --owner-key HEX      private key of the agent's owner account env DISPATCH_OWNER_KEY
                       (prefer the env variable: flags show up in process lists)
  --key PATH           the worker key file (as for the worker)  env DISPATCH_KEY_FILE
                       default ~/.dispatch/worker-key.json
  --agent-id N         link the key on an agent you already own instead of registering one
  --agent-uri URI      agent URI for a new registration (default dispatch:worker:<pubkey>)
  -h, --help

Then start the worker with --agent-id <the printed id>.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string" },
      registry: { type: "string" },
      "owner-key": { type: "string" },
      key: { type: "string" },
      "agent-id": { type: "string" },
      "agent-uri": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const env = process.env;
  const rpcUrl = values.rpc ?? env.DISPATCH_EVM_RPC;
  const registry = values.registry ?? env.DISPATCH_IDENTITY_REGISTRY;
  const ownerKey = values["owner-key"] ?? env.DISPATCH_OWNER_KEY;
  const keyFile = values.key ?? env.DISPATCH_KEY_FILE ?? path.join(os.homedir(), ".dispatch", "worker-key.json");
  const agentId = values["agent-id"];
  const problems = [
    !rpcUrl && "--rpc (or DISPATCH_EVM_RPC) is required",
    !(registry && /^0x[0-9a-fA-F]{40}$/.test(registry)) && "--registry must be the IdentityRegistry address (0x + 40 hex)",
    !(ownerKey && /^0x[0-9a-fA-F]{64}$/.test(ownerKey)) && "--owner-key (or DISPATCH_OWNER_KEY) must be a 0x-prefixed 32-byte private key",
    agentId !== undefined && !/^\d+$/.test(agentId) && "--agent-id must be a decimal number",
  ].filter(Boolean);
  if (problems.length > 0) {
    console.error(`register-identity: ${problems.join("; ")}\n\n${HELP}`);
    return 2;
  }
  const { keys } = await loadOrCreateKey(keyFile);
  console.error(`linking worker key ${keys.publicKey} (${keyFile}) ...`);
  const result = await registerIdentity({
    rpcUrl: rpcUrl as string,
    identityRegistry: registry as Address,
    ownerKey: ownerKey as Hex,
    workerPubkey: keys.publicKey,
    ...(values["agent-uri"] !== undefined && { agentURI: values["agent-uri"] }),
    ...(agentId !== undefined && { agentId: BigInt(agentId) }),
  });
  console.log(JSON.stringify({ agent_id: result.agentId.toString(), transaction: result.transaction, provider_pubkey: keys.publicKey }));
  console.error(`done: start the worker with --agent-id ${result.agentId}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`register-identity: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
