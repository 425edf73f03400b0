/**
 * Crashed runs. A process killed mid-training never ends its run, which would stay RUNNING forever in
 * the UI and in searches. Each run records the process that created it (host, pid); when a store opens,
 * RUNNING runs whose process is gone are marked FAILED.
 */
import { hostname } from "node:os";
import type { RunOwner } from "./sqlite-runs.js";
import type { Db } from "./sqlite-schema.js";

/** Tells whether the process `pid` on `host` is still running. */
export type IsAlive = (host: string, pid: number) => boolean;

/** The current process, as recorded for the runs it creates. */
export function currentOwner(): RunOwner {
  return { host: hostname(), pid: process.pid };
}

/**
 * The default liveness check. Only processes on this host can be probed; a run owned by another host is
 * assumed alive, since failing a healthy remote run would be worse than leaving a dead one RUNNING.
 * A pid reused by an unrelated process also reads as alive: the same trade.
 */
export function isProcessAlive(host: string, pid: number): boolean {
  if (host !== hostname()) return true;
  try {
    // Signal 0 delivers nothing; it only checks that the process exists.
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Sets RUNNING runs whose owner is dead to FAILED with endTime = `time`; returns their ids. */
export function markDeadRunsFailed(db: Db, isAlive: IsAlive, time: number): string[] {
  const candidates = db
    .prepare(
      `SELECT runs.run_uuid AS runId, run_owners.host AS host, run_owners.pid AS pid
       FROM runs JOIN run_owners ON run_owners.run_uuid = runs.run_uuid
       WHERE runs.status = 'RUNNING'`,
    )
    .all() as { runId: string; host: string; pid: number }[];
  // Probe outside the transaction, so a slow isAlive never holds the write lock.
  const dead = candidates.filter((owner) => !isAlive(owner.host, owner.pid)).map((owner) => owner.runId);
  if (dead.length === 0) return [];
  const fail = db.prepare(
    "UPDATE runs SET status = 'FAILED', end_time = ? WHERE run_uuid = ? AND status = 'RUNNING'",
  );
  // Another process may have ended one of them meanwhile; the status guard keeps its ending.
  return db.transaction(() => dead.filter((runId) => fail.run(time, runId).changes > 0)).immediate();
}
