import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WordVectors } from "./word-vectors.ts";
import { decodeWordVectors, encodeWordVectors, WORD_VECTORS_FILE } from "./word-vectors-format.ts";
import { loadWordVectors } from "./word-vectors-node.ts";

describe("word vectors", () => {
  it("round-trips the binary format", () => {
    const data = { meta: { source: "test" }, dims: 3, words: ["cat", "dog"], vectors: Int8Array.from([1, 2, 3, -4, 5, -6]) };
    const back = decodeWordVectors(encodeWordVectors(data));
    expect(back.meta).toEqual({ source: "test" });
    expect(back.words).toEqual(["cat", "dog"]);
    expect([...back.vectors]).toEqual([1, 2, 3, -4, 5, -6]);
  });

  it("refuses a truncated file", () => {
    const bytes = encodeWordVectors({ meta: {}, dims: 2, words: ["a", "b"], vectors: Int8Array.from([1, 2, 3, 4]) });
    expect(() => decodeWordVectors(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
  });

  it("ships a compact vocabulary in frequency order with meaningful neighbours", () => {
    const v = loadWordVectors();
    expect(v.size).toBe(40_000);
    expect(v.dims).toBe(100);
    expect(v.id("the")).toBe(0);
    expect(v.id("don't")).toBeUndefined();
    const car = v.id("car") ?? -1;
    expect(v.nearest(car, 3, 10_000).map((id) => v.word(id))).toEqual(["truck", "vehicle", "cars"]);
    expect(v.similarity(car, v.id("truck") ?? -1)).toBeGreaterThan(v.similarity(car, v.id("poetry") ?? -1));
  });

  it("refuses vectors whose hash is not the one the engine version names", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "wv-"));
    const bytes = readFileSync(path.resolve(import.meta.dirname, "../..", WORD_VECTORS_FILE));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const file = path.join(dir, "tampered.bin");
    writeFileSync(file, bytes);
    expect(() => loadWordVectors(file)).toThrow(/expects/);
    expect(() => WordVectors.fromBytes(bytes)).not.toThrow();
  });
});
