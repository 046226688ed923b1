import type { Page, WebSocketRoute } from "playwright-core";

export type Frame = Record<string, unknown> & { type?: string };

/** A page's worker sockets, passed through Playwright so a test can read, hold back or cut them. */
export interface SocketRelay {
  /** Frames the page sent, in order (including any held back). */
  sent: Frame[];
  /** Frames the coordinator sent the page. */
  received: Frame[];
  /** `job_complete` frames kept from the coordinator (with `holdCompletions`). */
  held: Frame[];
  /** Cuts every open connection on both sides, as a network drop or a coordinator deploy would. */
  cut(): Promise<void>;
}

/**
 * Routes the page's `/v1/workers/ws` connections through the test. With `holdCompletions`, the
 * page's results never reach the coordinator: a tab that dies before it delivers.
 */
export async function relaySockets(page: Page, opts: { holdCompletions?: boolean } = {}): Promise<SocketRelay> {
  const relay: SocketRelay & { open: [WebSocketRoute, WebSocketRoute][] } = {
    sent: [],
    received: [],
    held: [],
    open: [],
    cut: async () => {
      for (const [pageSide, serverSide] of relay.open.splice(0)) {
        await serverSide.close({ code: 1012, reason: "test cut" });
        await pageSide.close({ code: 1012, reason: "test cut" });
      }
    },
  };
  await page.routeWebSocket(/\/v1\/workers\/ws$/, (ws) => {
    const server = ws.connectToServer();
    relay.open.push([ws, server]);
    ws.onMessage((message) => {
      const frame = JSON.parse(String(message)) as Frame;
      relay.sent.push(frame);
      if (opts.holdCompletions && frame.type === "job_complete") relay.held.push(frame);
      else server.send(message);
    });
    server.onMessage((message) => {
      relay.received.push(JSON.parse(String(message)) as Frame);
      ws.send(message);
    });
  });
  return relay;
}
