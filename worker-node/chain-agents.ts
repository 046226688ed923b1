import type { WorkerAgent } from "./agent.ts";
import type { ExecutorDeps } from "./job-executor.ts";
import type { Logger } from "./logger.ts";

/**
 * The agents of one worker process, one per chain, sharing its key, LLM backend, TASK threads
 * and job slots. They stop together: on a signal, or when one of them stops for good (its key
 * registered elsewhere), and only then are the shared backends closed.
 */
export class ChainAgents {
  readonly #agents: WorkerAgent[];
  readonly #deps: ExecutorDeps;
  readonly #log: Logger;
  #stopping: Promise<void> | undefined;
  #exitCode = 0;
  #resolveStopped!: (code: number) => void;
  /** Resolves with the process exit code once every agent has stopped and the backends are closed. */
  readonly stopped: Promise<number>;

  constructor(agents: WorkerAgent[], deps: ExecutorDeps, log: Logger) {
    this.#agents = agents;
    this.#deps = deps;
    this.#log = log;
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    for (const agent of agents) {
      void agent.stopped.then((code) => {
        if (this.#stopping === undefined) void this.shutdown("another chain's session stopped", code);
      });
    }
  }

  start(): void {
    for (const agent of this.#agents) agent.start();
  }

  /**
   * Drains every agent (each finishes and delivers its running jobs), then closes the shared
   * backends. `exitCode` is the process's; the healthy agents still drain gracefully.
   */
  shutdown(reason: string, exitCode = 0): Promise<void> {
    this.#exitCode = Math.max(this.#exitCode, exitCode);
    this.#stopping ??= (async () => {
      const codes = await Promise.all(
        this.#agents.map(async (agent) => {
          await agent.shutdown(reason);
          return agent.stopped;
        }),
      );
      await this.#deps.tasks.close();
      await this.#deps.llm?.close();
      this.#log.info("all sessions stopped");
      this.#resolveStopped(Math.max(this.#exitCode, ...codes));
    })();
    return this.#stopping;
  }
}
