// The coordinator's production bundle served by workerd directly, with no dev proxy in front:
// what benchmarks measure next to `wrangler dev` (the proxy costs most of a request there).
// It builds the bundle with `wrangler deploy --dry-run`, writes a workerd config for it (the
// Durable Objects on local disk, the vars as text bindings) and runs `workerd serve`.
import type { ChildProcess } from "node:child_process";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureWorkerPage } from "./build-worker-page.ts";
import type { CoordinatorOptions, DevCoordinator } from "./dev-coordinator.ts";
import { freePort } from "./dev-coordinator.ts";
import { WRANGLER_BIN, wranglerEnv } from "./wrangler-env.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WORKERD = path.join(repoRoot, "node_modules", "workerd", "bin", "workerd");

/** The `[vars]` a local run needs; the caller's vars override them. */
const DEFAULT_VARS: Record<string, string> = { ALLOW_UNVERIFIED_WORKERS: "true", PAYMENTS_MODE: "disabled" };

const capnpText = (s: string) => JSON.stringify(s);

/** A Durable Object class of the bundle and the binding it is reached by. */
interface Namespace {
  binding: string;
  className: string;
}

function config(
  port: number,
  dir: string,
  vars: Record<string, string>,
  compatibilityDate: string,
  namespaces: readonly Namespace[],
): string {
  const bindings = [
    ...namespaces.map((n) => `    (name = ${capnpText(n.binding)}, durableObjectNamespace = ${capnpText(n.className)}),`),
    ...Object.entries(vars).map(([name, value]) => `    (name = ${capnpText(name)}, text = ${capnpText(value)}),`),
  ].join("\n");
  const classes = namespaces
    .map((n) => `(className = ${capnpText(n.className)}, uniqueKey = ${capnpText(`dispatch-${n.className}`)}, enableSql = true)`)
    .join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .coordinator),
    (name = "disk", disk = (path = ${capnpText(path.join(dir, "state"))}, writable = true)),
  ],
  sockets = [ (name = "http", address = ${capnpText(`127.0.0.1:${port}`)}, http = (), service = "main") ],
);

const coordinator :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "bundle/index.js") ],
  compatibilityDate = ${capnpText(compatibilityDate)},
  bindings = [
${bindings}
  ],
  durableObjectNamespaces = [ ${classes} ],
  durableObjectStorage = (localDisk = "disk"),
);
`;
}

/** Builds the coordinator's bundle and serves it on workerd; the same handle as `startCoordinator`. */
export async function startWorkerdCoordinator(options: CoordinatorOptions = {}): Promise<DevCoordinator> {
  // `wrangler deploy --dry-run` wants the `[assets]` directory; this config serves no assets (/worker answers 500 here).
  await ensureWorkerPage();
  return serveOnWorkerd({
    ...options,
    config: path.join(repoRoot, "wrangler.toml"),
    namespaces: [{ binding: "CHAIN", className: "ChainCoordinator" }],
  });
}

/** Builds any Worker of this repository (its wrangler config) and serves it on workerd. */
export async function serveOnWorkerd(
  options: CoordinatorOptions & { config: string; namespaces: readonly Namespace[] },
): Promise<DevCoordinator> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dispatch-workerd-"));
  const build = spawnSync(
    process.execPath,
    [WRANGLER_BIN, "deploy", "--dry-run", "--config", options.config, "--outdir", path.join(dir, "bundle")],
    {
      cwd: repoRoot,
      env: wranglerEnv(repoRoot, path.join(dir, "config")),
      encoding: "utf8",
    },
  );
  if (build.status !== 0) throw new Error(`wrangler could not build the bundle:\n${build.stderr.slice(-4_000)}`);
  const toml = await readFile(options.config, "utf8");
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? "2026-11-01";
  const port = await freePort();
  await writeFile(
    path.join(dir, "config.capnp"),
    config(port, dir, { ...DEFAULT_VARS, ...options.vars }, compatibilityDate, options.namespaces),
  );
  await mkdir(path.join(dir, "state"), { recursive: true });
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn(WORKERD, ["serve", "config.capnp"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    const collect = (d: Buffer): void => {
      log = (log + d.toString()).slice(-50_000);
    };
    proc.stdout?.on("data", collect);
    proc.stderr?.on("data", collect);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`workerd exited (${proc.exitCode ?? proc.signalCode}):\n${log.slice(-4_000)}`);
      try {
        // Any HTTP answer means it is serving (the coordinator's health, or a bench Worker's 404).
        await fetch(`${url}/monad/v1/health`, { signal: AbortSignal.timeout(1_000) });
        return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`workerd at ${url} not healthy in 15 s:\n${log.slice(-4_000)}`);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    // Exited, or killed by a signal (then exitCode stays null and "exit" has already fired).
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGKILL");
    await gone;
  };
  await launch();
  return {
    url,
    output: () => log,
    memory: async () => {
      if (child?.pid === undefined) return null;
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      return rss ? Number(rss[1]) * 1024 : null;
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await kill();
      await launch();
    },
  };
}
