// The deployment profiles in wrangler.toml, as wrangler itself resolves them, checked against the
// settings registry (coordinator/settings-registry.ts). Used by `npm run deploy:check` and the
// settings tests.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import { PROFILES, type Profile, SETTINGS, type SettingName, type SettingSpec } from "../coordinator/settings-registry.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WRANGLER_TOML = path.join(repoRoot, "wrangler.toml");

/** The top level (what `npm run dev` and the tests run) and each `[env.<profile>]`. */
export type ProfileName = "default" | Profile;
export const PROFILE_NAMES: ProfileName[] = ["default", ...PROFILES];

export interface ResolvedProfile {
  name: ProfileName;
  /** The Worker name this profile deploys as. */
  worker: string;
  vars: Record<string, string>;
  secrets: string[];
  bindings: string[];
}

export function readProfile(name: ProfileName): ResolvedProfile {
  const config = unstable_readConfig({ config: WRANGLER_TOML, env: name === "default" ? undefined : name }, { hideWarnings: true });
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.vars ?? {})) vars[k] = typeof v === "string" ? v : JSON.stringify(v);
  return {
    name,
    worker: config.name ?? "",
    vars,
    secrets: [...(config.secrets?.required ?? [])],
    bindings: (config.durable_objects?.bindings ?? []).map((b: { name: string }) => b.name),
  };
}

export interface ProfileReport {
  /** Mistakes: the profile would not work as written. */
  errors: string[];
  /** Placeholders the operator fills in before deploying (needed, present, empty). */
  toFill: SettingName[];
}

const isSetting = (name: string): name is SettingName => Object.hasOwn(SETTINGS, name);

/**
 * Checks a profile against the registry: every var is a known setting with a well-formed value,
 * no secret sits in `[vars]`, and (for deployable profiles) every needed setting is either a var or
 * a declared secret. The local profile's needs are met at run time by `npm start`.
 */
export function checkProfile(profile: ResolvedProfile): ProfileReport {
  const errors: string[] = [];
  const toFill: SettingName[] = [];
  for (const [name, value] of Object.entries(profile.vars)) {
    if (!isSetting(name)) {
      errors.push(`[vars] ${name} is not a setting the coordinator reads (typo? see coordinator/settings-registry.ts)`);
      continue;
    }
    const spec: SettingSpec = SETTINGS[name];
    if (spec.secret) errors.push(`${name} is a secret: remove it from [vars] and use \`wrangler secret put ${name}\``);
    else if (value !== "") {
      try {
        spec.parse(name, value);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  }
  for (const name of profile.secrets) {
    if (!isSetting(name)) errors.push(`secrets.required lists ${name}, which the coordinator does not read`);
    else if (!(SETTINGS[name] as SettingSpec).secret)
      errors.push(`secrets.required lists ${name}, which is not a secret: put it in [vars]`);
  }
  if (!profile.bindings.includes("CHAIN")) errors.push("no CHAIN Durable Object binding (bindings are not inherited by [env.*])");
  if (profile.name === "testnet") {
    for (const name of Object.keys(SETTINGS) as SettingName[]) {
      const spec: SettingSpec = SETTINGS[name];
      if (!spec.needs.includes(profile.name)) continue;
      if (spec.secret) {
        if (!profile.secrets.includes(name)) errors.push(`${name} is needed: list it in secrets.required`);
      } else if (!(name in profile.vars)) errors.push(`${name} is needed: add it to [vars]`);
      else if (profile.vars[name] === "") toFill.push(name);
    }
  }
  return { errors, toFill };
}
