import { type Context, Hono } from "hono";
import type { Chain } from "../../protocol/index.ts";
import { ASSET_PATHS, dashboardPage, PAGE_CSP } from "../dashboard/page.ts";
import { DASHBOARD_SCRIPT } from "../dashboard/script.ts";
import { DASHBOARD_STYLE } from "../dashboard/style.ts";
import type { Env } from "../env.ts";
import { clientAddress } from "../request.ts";

type AppEnv = { Bindings: Env };

const PAGE_HEADERS = {
  "content-security-policy": PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/**
 * The live dashboard of one chain, mounted at the chain root: the page at `/dashboard` (bare
 * `/dashboard` is Monad's; the page switches chains itself), its script and stylesheet, the
 * JSON snapshot at `/v1/dashboard` and the live stream at `/v1/dashboard/events`.
 */
export function dashboardRoutes(chain: Chain): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  const stub = (c: Context<AppEnv>) => c.env.CHAIN.getByName(chain);

  api.get("/dashboard", (c) => c.html(dashboardPage(chain), 200, PAGE_HEADERS));
  api.get(ASSET_PATHS.script, (c) => c.body(DASHBOARD_SCRIPT, 200, { ...PAGE_HEADERS, "content-type": "text/javascript; charset=utf-8" }));
  api.get(ASSET_PATHS.style, (c) => c.body(DASHBOARD_STYLE, 200, { ...PAGE_HEADERS, "content-type": "text/css; charset=utf-8" }));

  api.get("/v1/dashboard", async (c) => c.json(await stub(c).dashboard(chain)));

  // One stream per viewer, opened in the chain's object (it counts against the address's holds there).
  api.get("/v1/dashboard/events", (c) => {
    const params = new URLSearchParams({ chain, addr: clientAddress(c) });
    return stub(c).fetch(new Request(`https://coordinator/dashboard/events?${params}`));
  });

  return api;
}
