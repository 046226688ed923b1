import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { ensureWorkerPage } from "./scripts/build-worker-page.ts";

// The coordinator serves the /worker page from wrangler.toml's `[assets]` directory, which must
// exist (and be current) before workerd starts; a no-op when nothing changed.
await ensureWorkerPage();

export default defineConfig({
  test: {
    projects: [
      {
        // The coordinator runs inside workerd, exactly as it does under wrangler.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Bounds small enough for a test to reach them. Every TASK job is spot-checked, which
            // only touches tests whose workers name a `task_engine` (coordinator/test/audits.test.ts).
            miniflare: { bindings: { MAX_SOCKETS_PER_ADDRESS: "40", SSE_BUFFER_BYTES: "131072", AUDIT_SAMPLE_PERCENT: "100" } },
          }),
        ],
        test: {
          name: "coordinator",
          include: ["coordinator/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "node",
          include: [
            "protocol/**/*.test.ts",
            "worker-node/**/*.test.ts",
            "sdk/**/*.test.ts",
            "contracts/**/*.test.ts",
            "chains/**/*.test.ts",
            "test/**/*.test.ts",
          ],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
