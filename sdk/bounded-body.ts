import { DispatchError } from "./errors.ts";

/**
 * The most the SDK reads of one coordinator answer or one streamed event. A job's result is at
 * most the worker's 1 MiB frame; this leaves room for the rest of the job view. A coordinator is
 * not trusted to end its bodies.
 */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** `res.text()` that stops reading (and cancels the body) past `maxBytes`. */
export async function readBoundedText(res: Response, chain: string, maxBytes = MAX_ANSWER_BYTES): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new DispatchError("invalid_response", `${chain} coordinator answered ${res.status} with more than ${maxBytes} bytes`, {
        status: res.status,
      });
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
