import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CHAINS } from "../../protocol/index.ts";
import { createApp } from "../app.ts";
import { SETTING_NAMES, SETTINGS, type SettingSpec, settingsOf } from "../settings-registry.ts";
import { api, json } from "./support.ts";

/** Asks the app (not the Durable Object) with `vars` layered over the test bindings. */
async function askWith(vars: Record<string, string>, path = "/monad/v1/health"): Promise<{ status: number; message: string }> {
  const res = await createApp().fetch(new Request(`http://coordinator.test${path}`), { ...env, ...vars });
  const body = (await res.json()) as { message?: string };
  return { status: res.status, message: body.message ?? "" };
}

describe("settings", () => {
  it("shows every non-secret setting of the chain in /v1/health, defaults applied", async () => {
    for (const chain of CHAINS) {
      const { settings } = await json<{ settings: Record<string, unknown> }>(await api(`/${chain}/v1/health`));
      const expected = settingsOf(chain).filter((n) => !(SETTINGS[n] as SettingSpec).secret);
      expect(Object.keys(settings).sort()).toEqual([...expected].sort());
      expect(settings).toMatchObject({ PAYMENTS_MODE: "disabled", MAX_SOCKETS: 10000, RETENTION_HOURS: 168, EVM_RPC_URL: null });
      // The test bindings (vitest.config.ts) override defaults like any var.
      expect(settings.MAX_SOCKETS_PER_ADDRESS).toBe(40);
      expect(Object.keys(settings).some((n) => n.startsWith("COORDINATOR_KEY"))).toBe(false);
    }
  });

  it("fails the first request naming any variable set to a malformed value", async () => {
    const malformed = "not valid!";
    for (const name of SETTING_NAMES) {
      const spec: SettingSpec = SETTINGS[name];
      if (spec.format === "text") continue; // free text: any non-empty value is valid
      const { status, message } = await askWith({ [name]: malformed }, `/${spec.chain ?? "monad"}/v1/health`);
      expect(status, name).toBe(500);
      expect(message, name).toBe(
        spec.secret
          ? `coordinator misconfigured: ${name} must be a well-formed ${spec.format} (a secret: its value is not shown)`
          : `coordinator misconfigured: ${name} must be ${expectation(spec)}, got "${malformed}"`,
      );
    }
  });

  it("never shows a secret's value, even a key pasted without its 0x", async () => {
    const key = "ab".repeat(32);
    const { status, message } = await askWith({ COORDINATOR_KEY_MONAD: key });
    expect(status).toBe(500);
    expect(message).toContain("COORDINATOR_KEY_MONAD");
    expect(message).not.toContain(key);
  });

  it("names what x402 and the trust layer are missing", async () => {
    expect((await askWith({ PAYMENTS_MODE: "x402" })).message).toBe(
      'coordinator misconfigured: PAYMENTS_MODE "x402" needs FACILITATOR_URL (or FACILITATOR_URL_MONAD), PAY_TO_MONAD, ASSET_MONAD, ASSET_NAME_MONAD, ASSET_VERSION_MONAD',
    );
    expect((await askWith({ PAYMENTS_MODE: "x402", FACILITATOR_URL_SOLANA: "https://f.example" }, "/solana/v1/quote")).message).toBe(
      'coordinator misconfigured: PAYMENTS_MODE "x402" needs PAY_TO_SOLANA, ASSET_SOLANA',
    );
    expect((await askWith({ EVM_RPC_URL: "http://127.0.0.1:8545" })).message).toBe(
      "coordinator misconfigured: IDENTITY_REGISTRY must be set when EVM_RPC_URL is set",
    );
  });

  it("keeps one chain serving when only the other chain's variables are wrong", async () => {
    expect((await askWith({ PAY_TO_SOLANA: "0xnot-base58" }, "/solana/v1/health")).status).toBe(500);
    const monad = await createApp().fetch(new Request("http://coordinator.test/monad/v1/quote?job_type=TASK"), {
      ...env,
      PAY_TO_SOLANA: "0xnot-base58",
    });
    expect(monad.status).toBe(200);
  });
});

/** The wording each kind uses for what it expects. */
function expectation(spec: SettingSpec): string {
  const byFormat: Record<string, string> = {
    "`true` or `false`": '"true" or "false"',
    "positive integer": "a positive integer",
    "http(s) URL": "an http(s) URL",
    "0x address": "a 0x-prefixed 20-byte address",
    "0x private key": "a 0x-prefixed 32-byte private key",
    "base58 address": "a base58 Solana address",
    "comma-separated 0x addresses": "comma-separated 0x-prefixed 20-byte addresses",
    "integer 0-100": "an integer from 0 to 100",
    "URL with `{tx}`": "an http(s) URL containing {tx}",
  };
  return byFormat[spec.format] ?? '"disabled" or "x402"';
}
