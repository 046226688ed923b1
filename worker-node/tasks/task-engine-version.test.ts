import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RegisterMessage, TASK_ENGINE, TASK_ENGINE_VERSION } from "../../protocol/index.ts";
import { WORD_VECTORS_FILE } from "./word-vectors-format.ts";

const root = path.resolve(import.meta.dirname, "../..");
const installed = (pkg: string): string =>
  (JSON.parse(readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

describe("TASK engine version", () => {
  it("names the wink-nlp and model versions that are installed", () => {
    expect(installed("wink-nlp")).toBe(TASK_ENGINE.winkNlp);
    expect(installed("wink-eng-lite-web-model")).toBe(TASK_ENGINE.winkModel);
  });

  it("names the word vectors file that is shipped", () => {
    const sha = createHash("sha256")
      .update(readFileSync(path.join(root, WORD_VECTORS_FILE)))
      .digest("hex");
    expect(sha.slice(0, 12)).toBe(TASK_ENGINE.wordVectorsSha256);
  });

  it("fits the register message's task_engine field", () => {
    expect(TASK_ENGINE_VERSION.length).toBeLessThanOrEqual(64);
    const base = { type: "register", provider_pubkey: "a".repeat(64), provider_type: "SEEKER", capabilities: ["TASK"] };
    expect(RegisterMessage.safeParse({ ...base, task_engine: TASK_ENGINE_VERSION }).success).toBe(true);
    expect(RegisterMessage.safeParse({ ...base, task_engine: "x".repeat(65) }).success).toBe(false);
  });
});
