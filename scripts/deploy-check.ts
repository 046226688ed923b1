// `npm run deploy:check [-- --plan paid|free]`: everything about a deploy that can be checked
// offline. The generated Env is up to date with wrangler.toml; each profile's vars are known,
// well-formed settings; each profile bundles (`wrangler deploy --dry-run`) within the Workers
// size limit for the plan, measured gzip-compressed as Cloudflare measures it.
//
// The default plan is Workers Paid (10 MB compressed): a coordinator serving a real fleet outgrows
// the Free plan's 10 ms of CPU per request (x402 verification, ed25519 checks) and its
// 100,000 requests a day (WebSocket messages to the Durable Object count too). `--plan free`
// checks the Free limit (3 MB) instead; the report shows the headroom for both.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { buildWorkerPage } from "./build-worker-page.ts";
import { checkProfile, PROFILE_NAMES, readProfile } from "./deploy-profiles.ts";
import { runWrangler, TYPES_ARGS } from "./wrangler-env.ts";

/** Cloudflare's Worker size limits after compression (decimal megabytes: the stricter reading). */
export const SIZE_LIMITS = { paid: 10_000_000, free: 3_000_000 } as const;
type Plan = keyof typeof SIZE_LIMITS;

const { values } = parseArgs({ options: { plan: { type: "string", default: "paid" } } });
if (values.plan !== "paid" && values.plan !== "free") {
  console.error("usage: npm run deploy:check [-- --plan paid|free]");
  process.exit(2);
}
const plan: Plan = values.plan;
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
let failed = false;
const fail = (line: string): void => {
  failed = true;
  console.log(`  ✗ ${line}`);
};

console.log("deploy:check");
const types = runWrangler([...TYPES_ARGS, "--check"]);
if (types.status === 0) console.log("  ✓ coordinator/worker-configuration.d.ts matches wrangler.toml");
else fail("coordinator/worker-configuration.d.ts is stale: run `npm run types` and commit it");

// The /worker page ships as static assets beside the Worker (they do not count toward its size).
const page = await buildWorkerPage();
console.log(`  ✓ worker page built: ${page.files.length} assets, first visit ${kb(page.gzipTotal)} gzip (code ${kb(page.gzipCode)})`);

for (const name of PROFILE_NAMES) {
  const profile = readProfile(name);
  const report = checkProfile(profile);
  const outdir = mkdtempSync(path.join(os.tmpdir(), `dispatch-bundle-${name}-`));
  try {
    const args = ["deploy", "--dry-run", "--outdir", outdir, ...(name === "default" ? [] : ["--env", name])];
    const built = runWrangler(args, { logLevel: "log" });
    if (built.status !== 0) {
      fail(`${name}: wrangler deploy --dry-run failed:\n${built.output.trim()}`);
      continue;
    }
    const size = bundleSize(outdir);
    const limit = SIZE_LIMITS[plan];
    const share = (of: number): string => `${((size.gzip / of) * 100).toFixed(1)} %`;
    const line = `${name.padEnd(8)} ${profile.worker.padEnd(29)} ${kb(size.gzip)} gzip (${kb(size.raw)} raw): ${share(SIZE_LIMITS.paid)} of 10 MB (paid), ${share(SIZE_LIMITS.free)} of 3 MB (free)`;
    if (size.gzip > limit) fail(`${line}: over the ${plan} plan's limit`);
    else console.log(`  ✓ ${line}`);
    for (const error of report.errors) fail(`${name}: ${error}`);
    const empty = Object.entries(profile.vars)
      .filter(([k, v]) => v === "" && !report.toFill.includes(k as never))
      .map(([k]) => k);
    if (report.toFill.length > 0) console.log(`      to fill in before deploying: ${report.toFill.join(", ")}`);
    if (empty.length > 0) console.log(`      empty (off until set): ${empty.join(", ")}`);
    if (profile.secrets.length > 0) console.log(`      secrets (wrangler secret put --env ${name}): ${profile.secrets.join(", ")}`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

console.log(failed ? "deploy:check failed" : "deploy:check passed");
process.exit(failed ? 1 : 0);

/** What is uploaded (the modules; source maps are not, unless `upload_source_maps` is on), raw and gzip-compressed. */
function bundleSize(dir: string): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  for (const file of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!file.isFile() || file.name.endsWith(".map") || file.name === "README.md") continue;
    const bytes = readFileSync(path.join(file.parentPath, file.name));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  return { raw, gzip };
}
