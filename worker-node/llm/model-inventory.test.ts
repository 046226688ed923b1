import { describe, expect, it } from "vitest";
import { LIMITS } from "../../protocol/index.ts";
import { ModelInventory, type ModelLists } from "./model-inventory.ts";

describe("model inventory", () => {
  it("lists the default first, then the loaded models, then the rest in the server's order", () => {
    const inv = new ModelInventory("d:latest", { models: ["a:latest", "l:latest", "d:latest", "b:latest"], loaded: ["l:latest"] });
    expect(inv.lists).toEqual({ models: ["d:latest", "l:latest", "a:latest", "b:latest"], loaded: ["l:latest"] });
  });

  it("keeps the register within the protocol's bounds: bad names left out, the list cut after the loaded ones", () => {
    const many = Array.from({ length: LIMITS.maxWorkerModels + 10 }, (_, i) => `m${i}:latest`);
    const inv = new ModelInventory("m70:latest", { models: ["bad name", ...many], loaded: ["m73:latest"] });
    const { models, loaded } = inv.lists;
    expect(models).toHaveLength(LIMITS.maxWorkerModels);
    expect(models.slice(0, 3)).toEqual(["m70:latest", "m73:latest", "m0:latest"]);
    expect(loaded).toEqual(["m73:latest"]);
    expect(inv.skipped).toContain("bad name");
    expect(inv.skipped).toHaveLength(11);
  });

  it("resolves names the way Ollama does, and any model for a job that names none", () => {
    const inv = new ModelInventory("llama3.2:latest", { models: ["llama3.2:latest", "qwen2.5:7b"], loaded: [] });
    expect(inv.resolve("Llama3.2")).toBe("llama3.2:latest");
    expect(inv.resolve("qwen2.5")).toBeUndefined();
    expect(inv.resolve(undefined)).toBe("llama3.2:latest");
    inv.set({ models: ["qwen2.5:7b"], loaded: [] }); // the default was deleted
    expect(inv.resolve(undefined)).toBe("qwen2.5:7b");
    inv.set({ models: [], loaded: [] });
    expect(inv.resolve(undefined)).toBeUndefined();
  });

  it("tells its listeners only about real changes", () => {
    const inv = new ModelInventory("a:latest", { models: ["a:latest"], loaded: [] });
    const seen: ModelLists[] = [];
    const stop = inv.onChange((l) => seen.push(l));
    inv.set({ models: ["a:latest"], loaded: [] });
    inv.set({ models: ["a:latest"], loaded: ["a:latest"] });
    stop();
    inv.set({ models: ["a:latest"], loaded: [] });
    expect(seen).toEqual([{ models: ["a:latest"], loaded: ["a:latest"] }]);
  });
});
