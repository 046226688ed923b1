import { describe, expect, it } from "vitest";
import { ConfigError, helpText, parseConfig, workerSocketUrl } from "./config.ts";

function config(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseConfig(argv, env);
  if (parsed.help) throw new Error("unexpected --help");
  return parsed.config;
}

describe("worker configuration", () => {
  it("has working defaults", () => {
    const c = config([]);
    expect(c).toMatchObject({
      targets: [{ coordinator: "http://127.0.0.1:8787", chain: "monad" }],
      providerType: "DESKTOP",
      slots: 1,
      threads: 1,
      llmBackend: "auto",
      ollamaModel: undefined,
      models: undefined,
    });
    expect(c.keyFile).toMatch(/\.dispatch[/\\]worker-key\.json$/);
  });

  it("reads every setting from DISPATCH_* variables, and flags win over them", () => {
    const env = {
      DISPATCH_COORDINATOR: "https://dispatch.example",
      DISPATCH_CHAIN: "solana",
      DISPATCH_TYPE: "desktop",
      DISPATCH_CONCURRENCY: "3",
      DISPATCH_LLM_BACKEND: "embedded",
      DISPATCH_GGUF: "model.gguf",
      DISPATCH_THREADS: "2",
      DISPATCH_CONTEXT_SIZE: "1024",
      DISPATCH_OLLAMA_MODEL: "qwen3",
      DISPATCH_MODELS: "qwen3, llama3.2:3b",
      DISPATCH_TRUST_CODE: "ABCDEFGHJK",
      DISPATCH_LOG_FORMAT: "json",
    };
    const c = config(["--chain", "monad", "-c", "2"], env);
    expect(c).toMatchObject({
      targets: [{ coordinator: "https://dispatch.example", chain: "monad" }],
      slots: 2,
      llmBackend: "embedded",
      threads: 2,
      contextSize: 1024,
      ollamaModel: "qwen3",
      models: ["qwen3", "llama3.2:3b"],
      trustCode: "ABCDEFGHJK",
      logFormat: "json",
    });
    expect(c.ggufPath).toMatch(/model\.gguf$/);
  });

  it("keeps one session per chain: repeated --chain, --chains, and one coordinator per chain", () => {
    const both = [
      { coordinator: "http://127.0.0.1:8787", chain: "monad" },
      { coordinator: "http://127.0.0.1:8787", chain: "solana" },
    ];
    expect(config(["--chain", "monad", "--chain", "solana"]).targets).toEqual(both);
    expect(config(["--chains", "monad,solana"]).targets).toEqual(both);
    expect(config([], { DISPATCH_CHAIN: "monad,solana" }).targets).toEqual(both);
    expect(config(["--chains", "monad"], { DISPATCH_CHAIN: "solana" }).targets).toEqual(both.slice(0, 1)); // flags win
    expect(config(["--coordinator", "http://a:1", "--coordinator", "http://b:2", "--chains", "solana,monad"]).targets).toEqual([
      { coordinator: "http://a:1", chain: "solana" },
      { coordinator: "http://b:2", chain: "monad" },
    ]);
    expect(config(["--coordinator", "http://a:1", "--coordinator", "http://b:2"], { DISPATCH_CHAINS: "monad,monad" }).targets).toHaveLength(
      2,
    );
  });

  it("refuses chain lists it cannot pair or that repeat a session", () => {
    expect(() => parseConfig(["--coordinator", "http://a:1", "--coordinator", "http://b:2", "--chain", "monad"], {})).toThrow(
      /one --coordinator for every chain, or one per chain in the same order \(got 2 coordinators for 1 chains\)/,
    );
    expect(() => parseConfig(["--chains", "monad,monad"], {})).toThrow(/chain monad on http:\/\/127.0.0.1:8787 is given twice/);
    expect(() => parseConfig(["--chains", "monad,eth"], {})).toThrow(/--chain must be one of monad, solana \(got "eth"\)/);
  });

  it("checks model names and that the default model is among --models", () => {
    expect(() => parseConfig(["--models", "llama3.2,bad name"], {})).toThrow(/--models: model may hold letters/);
    expect(() => parseConfig(["--ollama-model", "qwen3", "--models", "llama3.2"], {})).toThrow(
      /--ollama-model qwen3 must be one of --models \(llama3.2\)/,
    );
    expect(config(["--ollama-model", "llama3.2", "--models", "llama3.2:latest,qwen3"]).ollamaModel).toBe("llama3.2");
  });

  it("falls back to OLLAMA_HOST, as the ollama CLI does", () => {
    expect(config([], { OLLAMA_HOST: "http://gpu-box:11434" }).ollamaHost).toBe("http://gpu-box:11434");
    expect(config(["--ollama-host", "http://a:1"], { OLLAMA_HOST: "http://b:2" }).ollamaHost).toBe("http://a:1");
  });

  it("makes a seeker TASK-only without probing for an LLM", () => {
    expect(config(["--type", "seeker", "--llm-backend", "ollama"])).toMatchObject({ providerType: "SEEKER", llmBackend: "none" });
  });

  it("refuses bad values, naming the flag", () => {
    expect(() => parseConfig(["--chain", "eth"], {})).toThrow(ConfigError);
    expect(() => parseConfig(["--chain", "eth"], {})).toThrow(/--chain must be one of monad, solana/);
    expect(() => parseConfig(["--concurrency", "0"], {})).toThrow(/--concurrency must be an integer from 1 to 16/);
    expect(() => parseConfig([], { DISPATCH_THREADS: "two" })).toThrow(/--threads/);
    expect(() => parseConfig(["--coordinator", "ftp://x"], {})).toThrow(/--coordinator/);
    expect(() => parseConfig(["--nope"], {})).toThrow(/Unknown option/);
  });

  it("documents every flag and its environment variable in --help", () => {
    expect(parseConfig(["--help"], {})).toEqual({ help: true });
    const help = helpText();
    for (const flag of [
      "coordinator",
      "chain",
      "type",
      "key",
      "trust-code",
      "concurrency",
      "llm-backend",
      "ollama-host",
      "ollama-model",
      "models",
      "chains",
      "gguf",
      "threads",
      "context-size",
      "log-format",
      "log-level",
      "agent-id",
    ]) {
      expect(help).toContain(`--${flag}`);
    }
    for (const env of [
      "DISPATCH_COORDINATOR",
      "DISPATCH_CHAIN",
      "DISPATCH_CHAINS",
      "DISPATCH_MODELS",
      "DISPATCH_TYPE",
      "DISPATCH_KEY_FILE",
      "DISPATCH_GGUF",
      "DISPATCH_THREADS",
    ])
      expect(help).toContain(env);
  });

  it("builds the worker socket URL from the coordinator base", () => {
    expect(workerSocketUrl("http://127.0.0.1:8787", "monad")).toBe("ws://127.0.0.1:8787/monad/v1/workers/ws");
    expect(workerSocketUrl("https://dispatch.example/", "solana")).toBe("wss://dispatch.example/solana/v1/workers/ws");
    expect(workerSocketUrl("https://dispatch.example/solana", "solana")).toBe("wss://dispatch.example/solana/v1/workers/ws");
    expect(workerSocketUrl("ws://h:1/base", "monad")).toBe("ws://h:1/base/monad/v1/workers/ws");
  });
});
