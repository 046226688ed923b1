import { DASHBOARD_LIMITS, type DashboardSnapshot } from "../../protocol/index.ts";
import { tooManyWaits } from "../held-calls.ts";
import { SnapshotBuilder, type SnapshotSources } from "./snapshot.ts";

/** A viewer whose snapshot has not changed still hears from its stream this often, so it can tell a quiet chain from a dead link. */
const PING_EVERY_MS = 15_000;
/** A snapshot younger than this is served again rather than rebuilt: any number of viewers cost one build per interval. */
const FRESH_MS = DASHBOARD_LIMITS.intervalMs - 250;

interface Latest {
  at: number;
  snapshot: DashboardSnapshot;
  /** The snapshot without its time: equal keys mean nothing a viewer sees has changed. */
  key: string;
  frame: Uint8Array;
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The live dashboard of one chain: one snapshot built per interval however many watch, and one
 * event stream per viewer. There is no fan-out per job: a stream is paced by its own reader,
 * which pulls the latest snapshot every interval; a reader that stops reading stops being sent
 * anything, so a stream never holds more than the one snapshot being delivered (snapshots are
 * bounded by `DASHBOARD_LIMITS`). Each stream takes one of its address's long-poll holds.
 */
export class DashboardFeed {
  private readonly builder: SnapshotBuilder;
  private readonly sources: SnapshotSources;
  private readonly encoder = new TextEncoder();
  private latestBuilt: Latest | null = null;

  constructor(sources: SnapshotSources) {
    this.sources = sources;
    this.builder = new SnapshotBuilder(sources);
  }

  /** `GET /v1/dashboard`: the current snapshot (at most one interval old). */
  snapshot(now = Date.now()): DashboardSnapshot {
    return this.latest(now).snapshot;
  }

  /** `GET /v1/dashboard/events`: `snapshot` events when something changed, `ping` events when nothing did for a while. */
  stream(addr: string): Response {
    const release = this.sources.listeners.hold(addr);
    if (!release) {
      const refused = tooManyWaits(this.sources.settings().limits.holdsPerAddress);
      return Response.json(refused.error, { status: refused.status, headers: refused.headers ?? {} });
    }
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      release();
    };
    let sentKey: string | null = null;
    let sentAt = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          // EventSource reconnects after this long when the stream drops (a deploy, a slow reader cut off upstream).
          controller.enqueue(this.encoder.encode("retry: 3000\n\n"));
        },
        pull: async (controller) => {
          try {
            for (;;) {
              if (sentKey !== null) await sleep(DASHBOARD_LIMITS.intervalMs);
              if (!open) return;
              const now = Date.now();
              const latest = this.latest(now);
              if (latest.key !== sentKey) {
                controller.enqueue(latest.frame);
                sentKey = latest.key;
                sentAt = now;
                return;
              }
              if (now - sentAt >= PING_EVERY_MS) {
                controller.enqueue(this.encoder.encode(`event: ping\ndata: ${JSON.stringify({ at: new Date(now).toISOString() })}\n\n`));
                sentAt = now;
                return;
              }
            }
          } catch (err) {
            // The reader went away between two snapshots (enqueue on a cancelled stream), or a read failed.
            end();
            controller.error(err);
          }
        },
        cancel: () => end(),
      },
      // Nothing is produced ahead of the reader: a pull is what asks for the next snapshot.
      { highWaterMark: 0 },
    );
    return new Response(body, { headers: SSE_HEADERS });
  }

  private latest(now: number): Latest {
    const cached = this.latestBuilt;
    if (cached && now - cached.at >= 0 && now - cached.at < FRESH_MS) return cached;
    const snapshot = this.builder.build(now);
    const { at: _at, ...timeless } = snapshot;
    this.latestBuilt = {
      at: now,
      snapshot,
      key: JSON.stringify(timeless),
      frame: this.encoder.encode(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`),
    };
    return this.latestBuilt;
  }
}
