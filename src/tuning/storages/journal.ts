/**
 * `TuningStorage` over Optuna's journal (Optuna's `JournalStorage`): every write appends one operation to
 * the backend and reads back everything appended since the last read, so the in-memory replay always
 * includes this worker's own operation and whatever other processes — cryptoml or Optuna — wrote before
 * it. Calls on one instance are serialised (Optuna's thread lock), which keeps "the trial I created" and
 * "the trial I own" well defined for this worker.
 */
import { randomUUID } from "node:crypto";
import { TuningError } from "../errors.js";
import type { StoredStudy, TuningStorage } from "../storage.js";
import type { Distribution, FrozenTrial, StudyDirection, TrialState } from "../types.js";
import type { JournalBackend } from "./journal-file.js";
import { type JournalLog, newWorkerId, ops } from "./journal-log.js";
import { JournalReplay } from "./journal-ops.js";

/** Optuna's `DEFAULT_STUDY_NAME_PREFIX`. */
const DEFAULT_STUDY_NAME_PREFIX = "no-name-";

/**
 * The trial system attribute holding a trial's last heartbeat (an ISO 8601 time). Optuna's
 * JournalStorage has no heartbeat (only its RDB storage does), so the journal carries it as an attribute
 * Optuna keeps and ignores.
 */
export const HEARTBEAT_ATTR = "cryptoml:heartbeat";

export interface JournalStorageOptions {
  /** This writer's id in the log (default: a fresh UUID and the process id, as Optuna's). */
  workerId?: string;
  /** The clock of heartbeats, in ms since the epoch (default `Date.now`); tests pass a fake one. */
  now?: () => number;
}

export class JournalStorage implements TuningStorage {
  private readonly replay: JournalReplay;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly backend: JournalBackend,
    options: JournalStorageOptions = {},
  ) {
    this.replay = new JournalReplay(options.workerId ?? newWorkerId());
    this.now = options.now ?? Date.now;
  }

  /** Runs `fn` after every earlier call of this instance has finished. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new TuningError("STORAGE", "the journal storage is closed", {
          hint: "open the storage again to keep using it",
        }),
      );
    }
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async sync(): Promise<void> {
    this.replay.apply(await this.backend.readLogs(this.replay.logsRead));
  }

  /** Appends one operation under this worker's id, then replays up to it (throwing if it failed). */
  private async write(op: { op_code: number } & Record<string, unknown>): Promise<void> {
    const { op_code, ...fields } = op;
    const log: JournalLog = { op_code, worker_id: this.replay.workerId, ...fields };
    await this.backend.appendLogs([log]);
    await this.sync();
  }

  private read<T>(fn: () => T): Promise<T> {
    return this.serial(async () => {
      await this.sync();
      return fn();
    });
  }

  createStudy(directions: readonly StudyDirection[], studyName?: string): Promise<number> {
    if (directions.length === 0) {
      return Promise.reject(
        new TuningError("INVALID_VALUE", "a study needs at least one direction", {
          hint: 'pass ["minimize"] or ["maximize"]',
        }),
      );
    }
    const name = studyName ?? `${DEFAULT_STUDY_NAME_PREFIX}${randomUUID()}`;
    return this.serial(async () => {
      await this.write(ops.createStudy(directions, name));
      const study = this.replay.getAllStudies().find((s) => s.studyName === name);
      if (study === undefined) throw new TuningError("STORAGE", `the study "${name}" was not created`);
      return study.studyId;
    });
  }

  deleteStudy(studyId: number): Promise<void> {
    return this.serial(() => this.write(ops.deleteStudy(studyId)));
  }

  getStudyIdFromName(studyName: string): Promise<number> {
    return this.read(() => {
      const study = this.replay.getAllStudies().find((s) => s.studyName === studyName);
      if (study === undefined) {
        throw new TuningError("STUDY_NOT_FOUND", `no study named "${studyName}" in the journal`, {
          hint: "create it first, or check the name and the storage URL",
        });
      }
      return study.studyId;
    });
  }

  getStudy(studyId: number): Promise<StoredStudy> {
    return this.read(() => this.replay.getStudy(studyId));
  }

  getAllStudies(): Promise<StoredStudy[]> {
    return this.read(() => this.replay.getAllStudies());
  }

  setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    return this.serial(() => this.write(ops.setStudyUserAttr(studyId, key, value)));
  }

  setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    return this.serial(() => this.write(ops.setStudySystemAttr(studyId, key, value)));
  }

  createTrial(
    studyId: number,
    template?: Partial<FrozenTrial>,
  ): Promise<{ trialId: number; number: number }> {
    return this.serial(async () => {
      await this.write(ops.createTrial(studyId, template));
      const trial = this.replay.getTrial(this.replay.lastCreatedTrialId);
      return { trialId: trial.trialId, number: trial.number };
    });
  }

  setTrialParam(
    trialId: number,
    name: string,
    internalValue: number,
    distribution: Distribution,
  ): Promise<void> {
    return this.serial(() => this.write(ops.setTrialParam(trialId, name, internalValue, distribution)));
  }

  setTrialStateValues(trialId: number, state: TrialState, values?: readonly number[]): Promise<boolean> {
    return this.serial(async () => {
      if (state === "RUNNING") {
        // Taking a WAITING trial: give up early when another worker already took it (Optuna does the same).
        await this.sync();
        const existing = this.replay.getTrial(trialId);
        if (existing.state === "COMPLETE" || existing.state === "PRUNED" || existing.state === "FAIL") {
          throw new TuningError(
            "TRIAL_FINISHED",
            `trial #${existing.number} has already finished and can not be updated`,
            {
              hint: "a finished trial cannot run again; create a new trial",
            },
          );
        }
        if (existing.state !== "WAITING") return false;
      }
      await this.write(ops.setTrialStateValues(trialId, state, values));
      return state !== "RUNNING" || this.replay.ownedTrialId === trialId;
    });
  }

  setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void> {
    return this.serial(() => this.write(ops.setTrialIntermediateValue(trialId, step, value)));
  }

  setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    return this.serial(() => this.write(ops.setTrialUserAttr(trialId, key, value)));
  }

  setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    return this.serial(() => this.write(ops.setTrialSystemAttr(trialId, key, value)));
  }

  getTrial(trialId: number): Promise<FrozenTrial> {
    return this.read(() => this.replay.getTrial(trialId));
  }

  getAllTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    return this.read(() => this.replay.getAllTrials(studyId, states));
  }

  recordHeartbeat(trialId: number): Promise<void> {
    return this.setTrialSystemAttr(trialId, HEARTBEAT_ATTR, new Date(this.now()).toISOString());
  }

  async failStaleTrials(studyId: number, graceSeconds: number): Promise<number[]> {
    const deadline = this.now() - graceSeconds * 1000;
    const running = await this.getAllTrials(studyId, ["RUNNING"]);
    const failed: number[] = [];
    for (const trial of running) {
      const beat = trial.systemAttrs[HEARTBEAT_ATTR];
      // Trials without a heartbeat are not watched (Optuna's rule), so they are never failed here.
      if (typeof beat !== "string" || !(Date.parse(beat) < deadline)) continue;
      try {
        await this.setTrialStateValues(trial.trialId, "FAIL");
        failed.push(trial.trialId);
      } catch (error) {
        // Another worker failed (or finished) it first.
        if (!(error instanceof TuningError && error.reason === "TRIAL_FINISHED")) throw error;
      }
    }
    return failed;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.serial(async () => {
      this.closed = true;
      await this.backend.close();
    });
  }
}
