import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, LIMITS } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { ComputeRouter } from "./router.ts";
import { type FakeHostedServer, startHostedServer } from "./test-support/hosted-servers.ts";

let coordinator: DevCoordinator;
let openai: FakeHostedServer;

// Its own file (and coordinator) so its 30 s queue deadline runs in parallel with the other files.
describe("a real coordinator with no workers", () => {
  beforeAll(async () => {
    coordinator = await startCoordinator();
    openai = await startHostedServer("openai", "served by the hosted model");
  }, 90_000);
  afterAll(async () => {
    await openai?.close();
    await coordinator?.stop();
  });

  it(
    "fails PUBLIC jobs no_eligible_worker at the queue deadline, falls back when a key is given, never for PRIVATE",
    async () => {
      const coordinators = { monad: `${coordinator.url}/monad` };
      const hosted = { openai: { apiKey: "test-key", baseUrl: openai.baseUrl } };
      const withKey = new ComputeRouter({ coordinators, hosted, identity: generateKeyPair() });
      const withoutKey = new ComputeRouter({ coordinators });
      const started = Date.now();

      const [fallback, noRoute, privateJob] = await Promise.allSettled([
        withKey.runTask({ task_type: "summarize", input: "Public words. More." }),
        // Default TASK patience equals the queue deadline: the coordinator's verdict must still win over a timeout.
        withoutKey.runTask({ task_type: "summarize", input: "Nobody takes this." }),
        withKey.runTask({ task_type: "summarize", input: "private words", privacy: "PRIVATE" }),
      ]);

      expect(fallback).toMatchObject({
        status: "fulfilled",
        value: { route: "hosted:openai", fallback_reason: "no_eligible_worker", output: { summary: "served by the hosted model" } },
      });
      expect(noRoute).toMatchObject({ status: "rejected", reason: { code: "no_eligible_worker" } });
      expect(privateJob).toMatchObject({ status: "rejected", reason: { code: "no_trusted_worker", status: 422 } });
      expect(Date.now() - started).toBeGreaterThanOrEqual((LIMITS.queueDeadlineSeconds - 1) * 1000);
      expect(openai.requests).toHaveLength(1);
      expect(JSON.stringify(openai.requests)).not.toMatch(/private words/);
    },
    (LIMITS.queueDeadlineSeconds + 30) * 1000,
  );
});
