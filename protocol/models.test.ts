import { describe, expect, it } from "vitest";
import { LIMITS } from "./limits.ts";
import { ModelName, ModelsResponse, modelKey, sameModel } from "./models.ts";
import { ModelsUpdateMessage, parseWorkerMessage } from "./ws.ts";

const pubkey = "ab".repeat(32);

describe("model names", () => {
  it("accepts the names Ollama and Hugging Face use", () => {
    for (const name of ["llama3.2", "qwen2.5:7b", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "stories260K"]) {
      expect(ModelName.safeParse(name).success, name).toBe(true);
    }
    for (const name of ["", " llama", "-x", "a b", "x\n", "name;drop", "ünïcode"])
      expect(ModelName.safeParse(name).success, name).toBe(false);
  });

  it("treats a bare name as its :latest tag and ignores case", () => {
    expect(modelKey("llama3.2")).toBe("llama3.2:latest");
    expect(modelKey("hf.co/org/Repo")).toBe("hf.co/org/repo:latest");
    expect(sameModel("Llama3.2", "llama3.2:latest")).toBe(true);
    expect(sameModel("llama3.2:3b", "llama3.2")).toBe(false);
  });

  it("parses the OpenAI-shaped model list", () => {
    const list = {
      object: "list",
      data: [{ id: "llama3.2:latest", object: "model", created: 0, owned_by: "dispatch", workers: 2, loaded: 1 }],
    };
    expect(ModelsResponse.parse(list)).toEqual(list);
    expect(ModelsResponse.safeParse({ object: "list", data: [{ id: "x" }] }).success).toBe(false);
  });
});

describe("model lists on the worker socket", () => {
  const register = { type: "register", provider_pubkey: pubkey, provider_type: "DESKTOP", capabilities: ["LLM_INFER"] };

  it("keeps a reference register without model lists valid", () => {
    const parsed = parseWorkerMessage(JSON.stringify(register));
    expect(parsed).toMatchObject({ ok: true, value: register });
  });

  it("carries the served and loaded models in register", () => {
    const parsed = parseWorkerMessage(JSON.stringify({ ...register, models: ["a:latest", "b:7b"], loaded_models: ["b:7b"] }));
    expect(parsed).toMatchObject({ ok: true, value: { models: ["a:latest", "b:7b"], loaded_models: ["b:7b"] } });
  });

  it("refuses oversized or malformed model lists with the field named", () => {
    const many = Array.from({ length: LIMITS.maxWorkerModels + 1 }, (_, i) => `m${i}`);
    expect(parseWorkerMessage(JSON.stringify({ ...register, models: many }))).toMatchObject({ ok: false, code: "INVALID_MESSAGE" });
    const bad = parseWorkerMessage(JSON.stringify({ ...register, loaded_models: ["ok", "not ok"] }));
    expect(bad).toMatchObject({ ok: false, message: expect.stringMatching(/^loaded_models\.1:/) });
  });

  it("defines models_update with both lists required", () => {
    expect(ModelsUpdateMessage.safeParse({ type: "models_update", models: ["a"], loaded_models: [] }).success).toBe(true);
    expect(ModelsUpdateMessage.safeParse({ type: "models_update", models: ["a"] }).success).toBe(false);
  });
});
