import type { SettingVars } from "./settings-registry.ts";

/**
 * The Worker's environment: the bindings `wrangler types` generates from wrangler.toml
 * (`worker-configuration.d.ts`, `npm run types`) plus every registered setting as an optional
 * string, so a setting added to the registry is typed without a wrangler.toml entry.
 */
export type Env = Cloudflare.Env & SettingVars;
