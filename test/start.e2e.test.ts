// `npm start` as a newcomer sees it: one line per component, the summary, nothing else on the
// first screen (no readiness polling, no request log), and a clean stop on Ctrl-C.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/dev-coordinator.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("npm start", () => {
  let stateDir = "";
  afterAll(() => rm(stateDir, { recursive: true, force: true }));

  /** Runs `npm start` until its summary (or its exit), then Ctrl-C; what it printed and its exit code. */
  async function startAndStop(port: number): Promise<{ output: string; firstScreen: string; code: number | null }> {
    // No GGUF: the desktop workers serve TASKs only, which keeps the test light on two cores.
    const args = ["scripts/start.ts", "--port", String(port), "--state-dir", stateDir, "--gguf", path.join(stateDir, "none.gguf")];
    const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    proc.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));

    const deadline = Date.now() + 100_000;
    while (!output.includes("Ctrl-C stops everything") && Date.now() < deadline && proc.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const firstScreen = output;
    proc.kill("SIGINT");
    const code = await exited;
    return { output, firstScreen, code };
  }

  it("shows progress per component, then the summary, and stops cleanly on Ctrl-C", async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), "dispatch-start-"));
    let port = await freePort();
    let run = await startAndStop(port);
    // A free port is only free until someone binds it: the chains start first, and another test
    // process may take the coordinator's port meanwhile. That is the machine, not npm start: once more.
    if (run.output.includes("Address already in use")) {
      await rm(stateDir, { recursive: true, force: true });
      stateDir = await mkdtemp(path.join(os.tmpdir(), "dispatch-start-"));
      port = await freePort();
      run = await startAndStop(port);
    }
    const { output, firstScreen, code } = run;

    const lines = firstScreen.split("\n").filter((l) => l.trim());
    expect(lines[0], firstScreen).toBe(`Dispatch local network on http://127.0.0.1:${port}`);
    expect(
      lines.slice(1, 5).map((l) => l.trim().split(/\s+/).slice(0, 2).join(" ")),
      firstScreen,
    ).toEqual(["✓ chains", "✓ facilitator", "✓ coordinator", "✓ workers"]);
    expect(lines[4]).toContain("4 of 4 registered, 4 with verified keys");
    expect(lines[5]).toBe("Dispatch local network is up");
    // Nothing from the children on the first screen: no request log, no readiness polls, no start-up chatter.
    expect(firstScreen).not.toMatch(/\/v1\/health \d{3}|\[wrangler|level=|msg=|"msg"/);
    expect(lines.length).toBeLessThan(25);

    expect(code).toBe(0);
    expect(output).toContain("stopped");
    expect(output).not.toContain("second signal");
  }, 150_000);
});
