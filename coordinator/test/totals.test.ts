import { afterEach, describe, expect, it } from "vitest";
import { TOTALS_BACKFILL } from "../storage/schema.ts";
import { api, closeAll, commit, connectWorker, getJob, json, sqlIn, type TestWorker, taskBody } from "./support.ts";

const CHAIN = "solana";
const pool: TestWorker[] = [];
afterEach(() => closeAll(pool));

/** The totals the triggers keep, without the rows that count nothing. */
async function kept(): Promise<Record<string, unknown>[]> {
  return sqlIn(CHAIN, "SELECT name, n, micro FROM totals WHERE n <> 0 OR micro <> 0 ORDER BY name");
}

/** The same totals, aggregated from the tables as they are now. */
async function scanned(): Promise<Record<string, unknown>[]> {
  return sqlIn(
    CHAIN,
    `SELECT * FROM (
       SELECT 'payment:' || payment_state AS name, COUNT(*) AS n, SUM(price_micro) AS micro FROM jobs GROUP BY payment_state
       UNION ALL SELECT 'earned', COUNT(*), COALESCE(SUM(amount_micro), 0) FROM ledger
       UNION ALL SELECT 'transfer:' || kind, COUNT(*), SUM(amount_micro) FROM transfers WHERE state = 'confirmed' GROUP BY kind
       UNION ALL SELECT 'unanchored', COUNT(*), 0 FROM receipts WHERE anchor_batch IS NULL
     ) WHERE n <> 0 OR micro <> 0 ORDER BY name`,
  );
}

describe("running money totals (schema v8 triggers)", () => {
  it("match the tables through real jobs and every kind of write the coordinator makes", async () => {
    const w = await connectWorker(pool, { chain: CHAIN, slots: 2 });
    for (let i = 0; i < 3; i++) {
      const { body } = await commit(taskBody({}, `totals-${i}`), { chain: CHAIN });
      const id = String(body.job_id);
      await w.next("job_assign");
      w.complete(id);
      expect((await getJob(id, { chain: CHAIN, wait: 5 })).status).toBe("completed");
    }
    expect(await kept()).toEqual(await scanned());

    // Payment states move, prices differ, retention deletes; ledger credits; payouts and refunds
    // are created, confirmed and (for the check) moved back; receipts are batched and pruned.
    const job = (id: string, state: string, price: number) =>
      sqlIn(
        CHAIN,
        `INSERT INTO jobs (id, job_type, policy, privacy_class, user_id, payload, status, price_micro, payment_state, request_hash, created_at, queue_deadline)
         VALUES (?, 'TASK', 'CHEAP', 'PUBLIC', 'u', '{}', 'failed', ?, ?, 'h', 1, 1)`,
        id,
        price,
        state,
      );
    await job("t-1", "verified", 1000);
    await job("t-2", "verified", 5000);
    await job("t-3", "settling", 1000);
    await sqlIn(CHAIN, "UPDATE jobs SET payment_state = 'settled' WHERE id IN ('t-1', 't-3')");
    await sqlIn(CHAIN, "UPDATE jobs SET payment_state = 'refund_due', price_micro = 4000 WHERE id = 't-2'");
    await sqlIn(CHAIN, "UPDATE jobs SET reason = 'checked' WHERE id = 't-1'"); // no money column: no change
    await sqlIn(CHAIN, "DELETE FROM jobs WHERE id = 't-3'");
    await sqlIn(
      CHAIN,
      "INSERT INTO ledger (pubkey, job_id, kind, amount_micro, created_at) VALUES ('p1', 't-1', 'job', 900, 1), ('p1', 'a-1', 'audit', 900, 2), ('p2', 't-9', 'job', 4500, 3)",
    );
    await sqlIn(
      CHAIN,
      `INSERT INTO transfers (transfer_id, kind, pubkey, to_address, amount_micro, job_count, state, created_at)
       VALUES ('x-1', 'payout', 'p1', 'addr', 1800, 2, 'created', 1), ('x-2', 'refund', NULL, 'addr', 4000, 1, 'signed', 1),
              ('x-3', 'payout', 'p2', 'addr', 4500, 1, 'confirmed', 1)`,
    );
    await sqlIn(CHAIN, "UPDATE transfers SET state = 'confirmed' WHERE transfer_id IN ('x-1', 'x-2')");
    await sqlIn(CHAIN, "UPDATE transfers SET state = 'failed' WHERE transfer_id = 'x-3'");
    await sqlIn(CHAIN, "UPDATE transfers SET attempts = attempts + 1 WHERE transfer_id = 'x-1'");
    const receipts = await sqlIn(CHAIN, "SELECT job_id FROM receipts ORDER BY job_id");
    expect(receipts.length).toBeGreaterThanOrEqual(3);
    await sqlIn(CHAIN, "UPDATE receipts SET anchor_batch = 'b-1' WHERE job_id = ?", String(receipts[0]?.job_id));
    await sqlIn(CHAIN, "DELETE FROM receipts WHERE job_id = ?", String(receipts[1]?.job_id));
    await sqlIn(CHAIN, "UPDATE receipts SET anchor_batch = NULL WHERE job_id = ?", String(receipts[0]?.job_id));
    const now = await kept();
    expect(now).toEqual(await scanned());
    expect(now).toEqual(
      expect.arrayContaining([
        { name: "payment:settled", n: 1, micro: 1000 },
        { name: "payment:refund_due", n: 1, micro: 4000 },
        { name: "earned", n: 3, micro: 6300 },
        { name: "transfer:payout", n: 1, micro: 1800 },
        { name: "transfer:refund", n: 1, micro: 4000 },
      ]),
    );

    // The dashboard reads them.
    const money = (
      await json<{ money: { earned_micro: number; paid_micro: number; refunded_micro: number } }>(await api(`/${CHAIN}/v1/dashboard`))
    ).money;
    expect(money).toMatchObject({ earned_micro: 6300, paid_micro: 1800, refunded_micro: 4000 });

    // The migration's backfill arrives at the same figures from the tables alone.
    for (const statement of TOTALS_BACKFILL) await sqlIn(CHAIN, statement);
    expect(await kept()).toEqual(now);
  });
});
