// The official `openai` client against Dispatch, paying each 402 with the SDK's x402 payer and
// checking every answer against its worker's signed receipt.
//
//   DISPATCH_COORDINATOR=http://127.0.0.1:8787 DISPATCH_EVM_PRIVATE_KEY=0x... node sdk/examples/openai-client.ts [model]
//
// Without a key it runs against a coordinator with payments disabled (`npm run dev`).
import OpenAI from "openai";
import { cliPaymentClient } from "../cli-payments.ts";
import { ComputeRouter, checkAnswerProof, dispatchFetch } from "../index.ts";

const root = process.env.DISPATCH_COORDINATOR ?? "http://127.0.0.1:8787";
const coordinator = `${root}/monad`;

// The CLI's payer: the key in DISPATCH_EVM_PRIVATE_KEY, allowed to pay exactly the quoted LLM price.
const payer = await cliPaymentClient(process.env, new ComputeRouter({ coordinators: { monad: coordinator } }), {
  job_type: "LLM_INFER",
  policy: "FAST",
});
const openai = new OpenAI({
  baseURL: `${coordinator}/v1`,
  apiKey: "unused", // Dispatch is paid per request with x402, not with an API key
  fetch: dispatchFetch(payer ? { payment: payer.client } : {}),
});

let model = process.argv[2];
if (model === undefined) {
  for await (const m of openai.models.list()) model ??= m.id;
}
if (model === undefined) throw new Error("no model is online: start a worker (npm start)");
const messages = [{ role: "user" as const, content: "Write one short sentence about the sea." }];

// Unstreamed: the proof travels in the x-dispatch-receipt header (and the body's `dispatch`).
const { data, response } = await openai.chat.completions.create({ model, messages, max_tokens: 48 }).withResponse();
const text = data.choices[0]?.message.content ?? "";
const proof = checkAnswerProof(response.headers.get("x-dispatch-receipt"), text);
console.log(text);
console.log(`verified: job ${proof.job_id} signed by worker ${proof.receipt.provider_pubkey}; usage ${JSON.stringify(data.usage)}`);
if (response.headers.get("payment-response")) console.log("paid: settlement in PAYMENT-RESPONSE");

// Streamed: the deltas, then the proof on the last chunk, checked against all the text received.
const stream = await openai.chat.completions.create({ model, messages, max_tokens: 48, stream: true });
let streamed = "";
let last: unknown;
for await (const chunk of stream) {
  const delta = chunk.choices[0]?.delta.content ?? "";
  process.stdout.write(delta);
  streamed += delta;
  last = chunk;
}
const streamedProof = checkAnswerProof((last as { dispatch?: Parameters<typeof checkAnswerProof>[0] }).dispatch, streamed);
console.log(`\nverified: job ${streamedProof.job_id} signed by worker ${streamedProof.receipt.provider_pubkey}`);
