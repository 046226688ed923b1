import { readFile, writeFile } from "node:fs/promises";

/** ChatML, the template many instruction-tuned GGUFs declare. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// GGUF metadata value types (the GGUF spec's numbering) and their fixed sizes in bytes.
const FIXED_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;

/**
 * Copies a GGUF file, adding `tokenizer.chat_template` to its metadata: the tiny base model
 * stories260K has no template, and this gives the embedded backend's chat path a real model
 * file to run on. The tensor data is copied unchanged (its offsets are relative to the data
 * section, which stays aligned).
 */
export async function withChatTemplate(source: string, destination: string, template: string): Promise<void> {
  const buf = await readFile(source);
  let pos = 0;
  const u32 = () => {
    const v = buf.readUInt32LE(pos);
    pos += 4;
    return v;
  };
  const u64 = () => {
    const v = Number(buf.readBigUInt64LE(pos));
    pos += 8;
    return v;
  };
  const str = () => {
    const len = u64();
    const s = buf.toString("utf8", pos, pos + len);
    pos += len;
    return s;
  };
  const skipValue = (type: number): number | undefined => {
    if (type === STRING) {
      str();
      return undefined;
    }
    if (type === ARRAY) {
      const itemType = u32();
      const count = u64();
      for (let i = 0; i < count; i++) skipValue(itemType);
      return undefined;
    }
    const size = FIXED_SIZE[type];
    if (size === undefined) throw new Error(`unknown GGUF value type ${type} at byte ${pos}`);
    const value = size === 4 ? buf.readUInt32LE(pos) : undefined;
    pos += size;
    return value;
  };

  if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${source} is not a GGUF file`);
  pos = 4;
  const version = u32();
  if (version < 2) throw new Error(`GGUF version ${version} is not supported here`);
  const tensorCount = u64();
  const kvCountAt = pos;
  const kvCount = u64();
  const kvStart = pos;
  let alignment = 32;
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    if (key === "tokenizer.chat_template") throw new Error(`${source} already has a chat template`);
    const value = skipValue(u32());
    if (key === "general.alignment" && value !== undefined) alignment = value;
  }
  const kvEnd = pos;
  for (let i = 0; i < tensorCount; i++) {
    str();
    const dims = u32();
    pos += dims * 8 + 4 + 8; // dims, type, offset
  }
  const infosEnd = pos;
  const dataStart = Math.ceil(infosEnd / alignment) * alignment;

  const key = Buffer.from("tokenizer.chat_template", "utf8");
  const value = Buffer.from(template, "utf8");
  const kv = Buffer.alloc(8 + key.length + 4 + 8 + value.length);
  let at = kv.writeBigUInt64LE(BigInt(key.length), 0);
  at += key.copy(kv, at);
  at = kv.writeUInt32LE(STRING, at);
  at = kv.writeBigUInt64LE(BigInt(value.length), at);
  value.copy(kv, at);

  const header = Buffer.from(buf.subarray(0, kvStart));
  header.writeBigUInt64LE(BigInt(kvCount + 1), kvCountAt);
  const head = Buffer.concat([header, buf.subarray(kvStart, kvEnd), kv, buf.subarray(kvEnd, infosEnd)]);
  const padding = Buffer.alloc(Math.ceil(head.length / alignment) * alignment - head.length);
  await writeFile(destination, Buffer.concat([head, padding, buf.subarray(dataStart)]));
}
