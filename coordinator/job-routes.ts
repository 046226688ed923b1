import { type CommitBody, type JobType, modelKey } from "../protocol/index.ts";

/**
 * Routes: what a worker must serve to take a job. A job's route is its type, or
 * `LLM_INFER:<model>` when it names a model (compared the Ollama way, see `modelKey`). A worker
 * serves its job types, and `LLM_INFER:<model>` for every model it lists; one that lists none
 * (a reference worker) takes only LLM jobs that name no model.
 */
export interface WorkerRoute {
  route: string;
  /** The model is loaded now: the job starts without a 10-60 s load. */
  loaded: boolean;
}

const MODEL_ROUTE = "LLM_INFER:";

export function modelRoute(model: string): string {
  return `${MODEL_ROUTE}${modelKey(model)}`;
}

export function jobRoute(body: CommitBody): string {
  const model = body.job_type === "LLM_INFER" ? (body.payload as { model?: string }).model : undefined;
  return model === undefined || model.length === 0 ? body.job_type : modelRoute(model);
}

export function workerRoutes(
  capabilities: readonly JobType[],
  models: readonly string[] = [],
  loaded: readonly string[] = [],
): WorkerRoute[] {
  const routes: WorkerRoute[] = capabilities.map((c) => ({ route: c, loaded: false }));
  if (!capabilities.includes("LLM_INFER")) return routes;
  const loadedKeys = new Set(loaded.map(modelKey));
  const seen = new Set<string>();
  for (const model of models) {
    const key = modelKey(model);
    if (seen.has(key)) continue;
    seen.add(key);
    routes.push({ route: `${MODEL_ROUTE}${key}`, loaded: loadedKeys.has(key) });
  }
  return routes;
}

/** The model a route names, or null for a plain job type. */
export function routeModel(route: string): string | null {
  return route.startsWith(MODEL_ROUTE) ? route.slice(MODEL_ROUTE.length) : null;
}
