import type { Env as CoordinatorEnv } from "../env.ts";

declare global {
  namespace Cloudflare {
    // The test runtime's `env` is the coordinator's own bindings.
    interface Env extends CoordinatorEnv {}
  }
}
