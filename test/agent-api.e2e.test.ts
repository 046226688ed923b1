// The agent-facing surfaces end to end, as their own clients use them: the official `openai`
// client, the Vercel AI SDK, the `ollama` client and an MCP host, against the coordinator under
// `wrangler dev` and two real worker processes, each backed by its own Ollama-compatible server.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { generateText, streamText } from "ai";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnswerProof, decodeAnswerProof, type JobView } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { ComputeRouter, checkAnswerProof, DispatchError } from "../sdk/index.ts";
import { type OllamaServer, startOllamaServer } from "./support/ollama-server.ts";
import { startWorker, type WorkerProcess } from "./support/worker-process.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ALPHA = ["Hello", " from", " alpha", "."];
const BETA = ["Beta", " speaking", "."];

let coordinator: DevCoordinator;
let home: string;
/** Serves alpha only, not loaded. */
let plainServer: OllamaServer;
/** Serves alpha (loaded) and beta. */
let warmServer: OllamaServer;
let plain: WorkerProcess;
let warm: WorkerProcess;
let openai: OpenAI;

beforeAll(async () => {
  [coordinator, plainServer, warmServer, home] = await Promise.all([
    startCoordinator(),
    startOllamaServer({ "alpha:latest": { tokens: ALPHA, delayMs: 5 } }),
    startOllamaServer({ "alpha:latest": { tokens: ALPHA, delayMs: 5, loaded: true }, "beta:latest": { tokens: BETA } }),
    mkdtemp(path.join(os.tmpdir(), "dispatch-agent-api-")),
  ]);
  const worker = (name: string, server: OllamaServer, models: string) =>
    startWorker([
      ...["--coordinator", coordinator.url, "--chain", "monad", "--key", path.join(home, `${name}.json`)],
      ...["--llm-backend", "ollama", "--ollama-host", server.host, "--models", models],
    ]);
  [plain, warm] = await Promise.all([worker("plain", plainServer, "alpha"), worker("warm", warmServer, "alpha,beta")]);
  await Promise.all([plain.waitFor((l) => l.msg === "registered"), warm.waitFor((l) => l.msg === "registered")]);
  openai = new OpenAI({ baseURL: `${coordinator.url}/monad/v1`, apiKey: "not-needed", maxRetries: 0 });
}, 90_000);

afterAll(async () => {
  for (const w of [plain, warm]) {
    if (w && w.proc.exitCode === null) w.proc.kill("SIGTERM");
    await w?.exited;
  }
  await Promise.all([coordinator?.stop(), plainServer?.close(), warmServer?.close()]);
  if (home) await rm(home, { recursive: true, force: true });
});

/** The worker that signed an answer, from its proof. */
const signer = (proof: AnswerProof | null) => proof?.receipt.provider_pubkey;

describe("model routing", () => {
  it("sends a model only to workers that serve it, and prefers the worker that has it loaded", async () => {
    const beta = await openai.chat.completions.create({ model: "beta", messages: [{ role: "user", content: "Hi" }] }).withResponse();
    expect(beta.data.choices[0]?.message.content).toBe("Beta speaking.");
    expect(signer(decodeAnswerProof(beta.response.headers.get("x-dispatch-receipt") ?? ""))).toBe(warm.pubkey);
    for (let i = 0; i < 3; i++) {
      const alpha = await openai.chat.completions
        .create({ model: "alpha", messages: [{ role: "user", content: `Hi ${i}` }] })
        .withResponse();
      expect(signer(decodeAnswerProof(alpha.response.headers.get("x-dispatch-receipt") ?? ""))).toBe(warm.pubkey);
    }
    // The worker without beta was never offered it (a job it cannot run would still show as
    // started in its log), nor, being cold, alpha.
    expect(warm.lines.filter((l) => l.msg === "job started").length).toBeGreaterThanOrEqual(4);
    expect(plain.lines.filter((l) => l.msg === "job started")).toEqual([]);
    expect(plainServer.requests).toEqual([]);
    expect(warmServer.requests.map((r) => r.model)).toEqual(["beta:latest", "alpha:latest", "alpha:latest", "alpha:latest"]);
  });
});

describe("the official openai client", () => {
  it("lists the models online", async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids.sort()).toEqual(["alpha:latest", "beta:latest"]);
  });

  it("completes a chat with usage, and the receipt verifies in the SDK and binds the exact text received", async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: "alpha",
        messages: [
          { role: "system", content: "Be kind." },
          { role: "user", content: "Say hello to me" },
        ],
        max_tokens: 16,
      })
      .withResponse();
    const text = data.choices[0]?.message.content ?? "";
    expect(text).toBe("Hello from alpha.");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    // The fake server counts prompt words (6) and generated pieces (4).
    expect(data.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });
    const jobId = response.headers.get("x-dispatch-job-id") ?? "";
    const proof = checkAnswerProof(response.headers.get("x-dispatch-receipt"), text, jobId);
    expect(proof.job_id).toBe(jobId);
    expect(() => checkAnswerProof(proof, `${text} (edited)`)).toThrow(DispatchError);
    const receipt = (await (await fetch(`${coordinator.url}/monad/v1/receipts/${jobId}`)).json()) as {
      verified: boolean;
      signature: string;
    };
    expect(receipt).toMatchObject({ verified: true, signature: proof.receipt.signature });
  });

  it("streams a chat: deltas, a usage chunk, and the proof on the last chunk", async () => {
    const stream = await openai.chat.completions.create({
      model: "alpha",
      messages: [{ role: "user", content: "Stream it" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let last: (typeof stream extends AsyncIterable<infer C> ? C : never) | undefined;
    let deltas = 0;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content ?? "";
      if (delta) deltas++;
      text += delta;
      last = chunk;
    }
    expect(text).toBe("Hello from alpha.");
    expect(deltas).toBeGreaterThan(1);
    expect(last?.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 4 });
    checkAnswerProof((last as unknown as { dispatch: AnswerProof }).dispatch, text);
  });

  it("reports a model nobody serves as a 404 NotFoundError in OpenAI's shape", async () => {
    const err = await openai.chat.completions
      .create({ model: "gamma", messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, code: "model_not_found", type: "not_found_error" });
  });
});

describe("the Vercel AI SDK (openai-compatible provider)", () => {
  const provider = () => createOpenAICompatible({ name: "dispatch", baseURL: `${coordinator.url}/monad/v1`, includeUsage: true });

  it("generateText answers with the worker's text and usage", async () => {
    const result = await generateText({ model: provider().chatModel("alpha"), prompt: "Hello?", maxRetries: 0 });
    expect(result.text).toBe("Hello from alpha.");
    expect(result.usage.outputTokens).toBe(4);
    expect(result.finishReason).toBe("stop");
  });

  it("streamText streams the worker's text", async () => {
    const result = streamText({ model: provider().chatModel("beta"), prompt: "Hello?", maxRetries: 0 });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    expect(pieces.join("")).toBe("Beta speaking.");
    expect((await result.usage).outputTokens).toBe(3);
  });
});

describe("the ollama client", () => {
  const ollama = () => new Ollama({ host: `${coordinator.url}/monad` });

  it("lists the models online as tags", async () => {
    const { models } = await ollama().list();
    expect(models.map((m) => m.name).sort()).toEqual(["alpha:latest", "beta:latest"]);
  });

  it("chats, unstreamed and streamed, with Ollama's counts", async () => {
    const once = await ollama().chat({ model: "beta", messages: [{ role: "user", content: "Hi" }] });
    expect(once.message.content).toBe("Beta speaking.");
    expect(once).toMatchObject({ done: true, done_reason: "stop", eval_count: 3, prompt_eval_count: 1 });
    expect(once.total_duration).toBeGreaterThan(0);
    let text = "";
    let final: Awaited<ReturnType<Ollama["chat"]>> | undefined;
    for await (const part of await ollama().chat({ model: "alpha", messages: [{ role: "user", content: "Hi" }], stream: true })) {
      text += part.message.content;
      if (part.done) final = part;
    }
    expect(text).toBe("Hello from alpha.");
    expect(final).toMatchObject({ eval_count: 4 });
    checkAnswerProof((final as unknown as { dispatch: AnswerProof }).dispatch, text);
  });

  it("generates, unstreamed and streamed", async () => {
    const once = await ollama().generate({ model: "alpha", prompt: "Go", system: "Be short." });
    expect(once).toMatchObject({ response: "Hello from alpha.", done: true, eval_count: 4 });
    let text = "";
    for await (const part of await ollama().generate({ model: "beta", prompt: "Go", stream: true, options: { num_predict: 2 } })) {
      text += part.response;
    }
    expect(text).toBe("Beta speaking");
  });

  it("throws Ollama's error for a model nobody serves", async () => {
    await expect(ollama().chat({ model: "gamma", messages: [{ role: "user", content: "Hi" }] })).rejects.toMatchObject({
      status_code: 404,
    });
  });
});

describe("one round trip", () => {
  it("commit?wait= answers with the finished, verified job in the same request", async () => {
    const requests: string[] = [];
    const router = new ComputeRouter({
      coordinators: { monad: `${coordinator.url}/monad` },
      fetch: (input, init) => {
        requests.push(`${init?.method ?? "GET"} ${new URL(input).pathname}${new URL(input).search}`);
        return fetch(input, init);
      },
    });
    const result = await router.runTask({
      task_type: "summarize",
      input: "Dispatch runs small jobs. Workers sign receipts. Seekers verify them.",
    });
    expect(result.receipt?.provider_pubkey).toMatch(/^[0-9a-f]{64}$/);
    expect(requests).toEqual([expect.stringMatching(/^POST \/monad\/v1\/jobs\/commit\/cheap\?wait=\d+$/)]);

    const res = await fetch(`${coordinator.url}/monad/v1/jobs/commit/cheap?wait=20`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ job_type: "TASK", user_id: "e2e", payload: { task_type: "classify", input: "I love this, it is great." } }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()) as JobView).toMatchObject({
      status: "completed",
      result: { label: "positive" },
      receipt: { verified: true },
    });
  });
});

describe("the MCP server", () => {
  it("lists its tools and summarizes over stdio, returning the output with its verified receipt", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(repoRoot, "sdk", "cli.ts"), "mcp", "--coordinator", coordinator.url, "--chain", "monad"],
      env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: home },
      stderr: "pipe",
    });
    const client = new Client({ name: "dispatch-e2e", version: "1.0.0" });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["classify", "extract_json", "job_status", "quote", "run_llm", "summarize"]);
      const text = "Dispatch is a compute network for agents. Workers run small jobs and sign receipts. Seekers pay per job with x402.";
      const summary = await client.callTool({ name: "summarize", arguments: { text, max_sentences: 1 } });
      expect(summary.isError).toBeFalsy();
      const structured = summary.structuredContent as { job_id: string; receipt_verified: boolean; output: { summary: string } };
      expect(structured.receipt_verified).toBe(true);
      expect(text).toContain(structured.output.summary);
      expect((summary.content as { text: string }[])[0]?.text).toContain("Receipt verified");
      const status = await client.callTool({ name: "job_status", arguments: { job_id: structured.job_id } });
      expect(status.structuredContent).toMatchObject({ id: structured.job_id, status: "completed", receipt_verified: true });
      const llm = await client.callTool({ name: "run_llm", arguments: { prompt: "Hi", model: "beta" } });
      expect((llm.structuredContent as { output: { text: string } }).output.text).toBe("Beta speaking.");
      const bad = await client.callTool({ name: "run_llm", arguments: { prompt: "Hi", model: "gamma" } });
      expect(bad.isError).toBe(true);
      expect((bad.content as { text: string }[])[0]?.text).toContain("model_not_served");
    } finally {
      await client.close();
    }
  });
});
