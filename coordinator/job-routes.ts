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
const AUDIT_ROUTE = "TASK@";

/**
 * The route of spot-check audit runs of TASK jobs made with `engine`: only verified workers that
 * run that very engine serve it, since only equal engines promise byte-identical outputs.
 */
export function auditRoute(engine: string): string {
  return `${AUDIT_ROUTE}${engine}`;
}

export function isAuditRoute(route: string): boolean {
  return route.startsWith(AUDIT_ROUTE);
}

export function modelRoute(model: string): string {
  return `${MODEL_ROUTE}${modelKey(model)}`;
}

export function jobRoute(body: CommitBody): string {
  const model = body.job_type === "LLM_INFER" ? (body.payload as { model?: string }).model : undefined;
  return model === undefined || model.length === 0 ? body.job_type : modelRoute(model);
}

/** `auditEngine`: the TASK engine of a verified worker, which may then audit other workers' TASK jobs. */
export function workerRoutes(
  capabilities: readonly JobType[],
  models: readonly string[] = [],
  loaded: readonly string[] = [],
  auditEngine: string | null = null,
): WorkerRoute[] {
  const routes: WorkerRoute[] = capabilities.map((c) => ({ route: c, loaded: false }));
  if (auditEngine !== null && capabilities.includes("TASK")) routes.push({ route: auditRoute(auditEngine), loaded: false });
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
