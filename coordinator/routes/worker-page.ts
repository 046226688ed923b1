import { Hono } from "hono";
import type { Env } from "../env.ts";
import { HttpError } from "../errors.ts";

type AppEnv = { Bindings: Env };

/** Where scripts/build-worker-page.ts puts the page inside the `[assets]` directory. */
const PAGE_FILE = "/worker/index.html";

/**
 * `GET /worker` (also `/worker/`): the browser worker page (worker-browser/, built into static assets). Its scripts,
 * stylesheet and word vectors under /worker/ are served by the assets layer directly; this route
 * only serves the page itself, with headers that keep it to its own origin and keep a pairing
 * code in its address (`?pair=`) out of any Referer.
 */
export function workerPageRoutes(): Hono<AppEnv> {
  const page = new Hono<AppEnv>();
  const serve = async (c: { req: { url: string }; env: Env }) => {
    const url = new URL(c.req.url);
    const asset = await c.env.ASSETS.fetch(new Request(new URL(PAGE_FILE, url.origin)));
    if (!asset.ok)
      throw new HttpError(500, "internal_error", "the worker page is not built: run `npm run build:worker-page` before starting");
    const ws = `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}`;
    const headers = new Headers({
      "content-type": "text/html; charset=utf-8",
      // The page changes with each build; its scripts are content-hashed.
      "cache-control": "no-cache",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "content-security-policy": [
        "default-src 'self'",
        `connect-src 'self' ${ws}`,
        "worker-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
    });
    return new Response(asset.body, { status: 200, headers });
  };
  // Full paths (mounted at the root): a sub-app at /worker would not see "/worker/".
  for (const path of ["/worker", "/worker/", PAGE_FILE]) page.get(path, serve);
  return page;
}
