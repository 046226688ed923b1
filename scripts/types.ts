// `npm run types`: regenerates coordinator/worker-configuration.d.ts (the Worker's `Env`) from
// wrangler.toml. Committed; `npm run deploy:check` fails when it is stale. Extra arguments go to
// wrangler (`-- --check` only checks).
import { runWrangler, TYPES_ARGS } from "./wrangler-env.ts";

process.exit(runWrangler([...TYPES_ARGS, ...process.argv.slice(2)], { inherit: true }).status);
