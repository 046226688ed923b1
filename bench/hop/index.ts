import { DurableObject } from "cloudflare:workers";

interface Env {
  SHARD: DurableObjectNamespace<Shard>;
  ROUTER: DurableObjectNamespace<Router>;
}

/** A worker-pool shard: takes a "job" (one SQLite write, as a commit does) and answers. */
export class Shard extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, at INTEGER NOT NULL)");
  }

  commit(id: string): { shard: string; id: string } {
    this.ctx.storage.sql.exec("INSERT INTO jobs (id, at) VALUES (?, ?)", id, Date.now());
    return { shard: this.ctx.id.toString().slice(0, 8), id };
  }
}

/** The chain's front object in a sharded design: picks a shard (here by key hash) and forwards. */
export class Router extends DurableObject<Env> {
  async commit(id: string, shards: number): Promise<{ shard: string; id: string }> {
    let h = 0;
    for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
    return this.env.SHARD.getByName(`shard-${Math.abs(h) % shards}`).commit(id);
  }
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    const id = crypto.randomUUID();
    const shards = Number(url.searchParams.get("shards") ?? "4");
    if (url.pathname === "/direct") return Response.json(await env.SHARD.getByName("shard-0").commit(id));
    if (url.pathname === "/routed") return Response.json(await env.ROUTER.getByName("router").commit(id, shards));
    if (url.pathname === "/edge") return Response.json({ id });
    return new Response("not found", { status: 404 });
  },
};
