import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TASK_ENGINE } from "../../protocol/index.ts";
import { WordVectors } from "./word-vectors.ts";

const FILE = fileURLToPath(new URL("./assets/word-vectors.bin", import.meta.url));

/**
 * Node's loader for the compact word vectors: one synchronous read (~4 MB). Vectors other than
 * the ones `TASK_ENGINE_VERSION` names would give different outputs than other workers, so a
 * mismatch is refused rather than served.
 */
export function loadWordVectors(file = FILE): WordVectors {
  const bytes = readFileSync(file);
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (!sha.startsWith(TASK_ENGINE.wordVectorsSha256)) {
    throw new Error(
      `${file} has SHA-256 ${sha.slice(0, 12)}, but this engine expects ${TASK_ENGINE.wordVectorsSha256}: restore the file from git (or rebuild it with scripts/build-embeddings.ts and update protocol/tasks.ts)`,
    );
  }
  return WordVectors.fromBytes(bytes);
}
