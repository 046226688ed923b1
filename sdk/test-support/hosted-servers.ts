import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface HostedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeHostedServer {
  /** Base URL to configure as `baseUrl` (ends in /v1, like the real APIs). */
  baseUrl: string;
  requests: HostedRequest[];
  /** What the next answers say; a test may change it between calls. */
  reply: { text: string; status: number };
  close(): Promise<void>;
}

/**
 * A local server speaking the OpenAI Chat Completions or Anthropic Messages wire format,
 * the only mock the SDK tests need: hosted LLM APIs are the edge of our world.
 */
export async function startHostedServer(kind: "openai" | "anthropic", text = "hosted answer"): Promise<FakeHostedServer> {
  const requests: HostedRequest[] = [];
  const reply = { text, status: 200 };
  const server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      raw += chunk;
    });
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // Recorded as an empty body: the test's assertions will say what went wrong.
      }
      requests.push({ path: req.url ?? "", headers: req.headers, body });
      const expectedPath = kind === "openai" ? "/v1/chat/completions" : "/v1/messages";
      const authorized = kind === "openai" ? req.headers.authorization === "Bearer test-key" : req.headers["x-api-key"] === "test-key";
      res.setHeader("content-type", "application/json");
      if (req.url !== expectedPath) {
        res.writeHead(404).end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
      } else if (!authorized) {
        res.writeHead(401).end(JSON.stringify({ error: { message: "bad key" } }));
      } else if (reply.status !== 200) {
        res.writeHead(reply.status).end(JSON.stringify({ error: { message: "overloaded" } }));
      } else if (kind === "openai") {
        res.end(
          JSON.stringify({
            id: "chatcmpl-1",
            object: "chat.completion",
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: reply.text }, finish_reason: "stop" }],
          }),
        );
      } else {
        res.end(
          JSON.stringify({
            id: "msg_1",
            type: "message",
            role: "assistant",
            model: body.model,
            content: [{ type: "text", text: reply.text }],
            stop_reason: "end_turn",
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    reply,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
