import type { CoordinatorMessage, ErrorMessage } from "../protocol/index.ts";

/** What a socket remembers across hibernation. Namespaced and versioned so a future shape can migrate. */
export interface SocketAttachment {
  v: 2;
  sid: string;
  nonce: string;
  connectedAt: number;
  /** `host[:port]` the worker dialled, as its upgrade request named it: part of what it signs. */
  host: string;
  /** The client address the upgrade came from (per-address socket bounds). */
  addr: string;
  /** Set once `register` succeeded. */
  pubkey: string | null;
  verified: boolean;
}

export function attachment(ws: WebSocket): SocketAttachment | null {
  const a = ws.deserializeAttachment() as { dispatch?: SocketAttachment } | null;
  return a?.dispatch?.v === 2 ? a.dispatch : null;
}

export function setAttachment(ws: WebSocket, value: SocketAttachment): void {
  ws.serializeAttachment({ dispatch: value });
}

export const socketTag = (sid: string) => `sid:${sid}`;

/** Sends one message; a dead socket is reported, never thrown, so one bad peer cannot abort a loop. */
export function send(ws: WebSocket, message: CoordinatorMessage): boolean {
  try {
    ws.send(JSON.stringify(message));
    return true;
  } catch {
    return false;
  }
}

export function sendError(ws: WebSocket, code: ErrorMessage["code"], message: string, jobId?: string): void {
  send(ws, jobId === undefined ? { type: "error", code, message } : { type: "error", code, message, job_id: jobId });
}

export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason.slice(0, 120));
  } catch {
    // Already closed: nothing to finish.
  }
}
