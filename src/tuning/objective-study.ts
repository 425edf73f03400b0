/**
 * What a `cryptoml tune` study optimises, as the study records it: the objective (`loss` or `sharpe`),
 * its validation metric and its trading costs live in the study's `cryptoml` user attribute, so `tune
 * show` / `tune best` can name it and a study is never continued towards another objective.
 */
import type { CostModel } from "../backtest/types.js";
import { UsageError } from "../core/errors.js";
import { TuningError } from "./errors.js";
import {
  OBJECTIVE_KINDS,
  type ObjectiveKind,
  type ObjectiveMetric,
  objectiveDirection,
} from "./objective.js";
import type { TuningStorage } from "./storage.js";

/** The study user attribute written by `cryptoml tune` (also read by `tune ensemble`). */
export const STUDY_META_ATTR = "cryptoml";

/** The part of the study's `cryptoml` attribute that says what it optimises. */
export interface StudyObjective {
  /** Absent in studies made before `--objective` existed: they are `loss` studies. */
  readonly objective?: ObjectiveKind;
  readonly metric?: ObjectiveMetric;
  /** The backtests' costs of a `sharpe` study. */
  readonly costs?: CostModel;
}

/** The objective named by `--objective`, or a UsageError listing the choices. */
export function parseObjective(value: string): ObjectiveKind {
  if ((OBJECTIVE_KINDS as readonly string[]).includes(value)) return value as ObjectiveKind;
  throw new UsageError(`--objective ${value} is unknown`, {
    hint: `use one of ${OBJECTIVE_KINDS.join(", ")}`,
  });
}

/** How values of the objective are named in logs and tracking: `sharpe`, or the loss objective's metric. */
export function objectiveLabel(meta: StudyObjective | undefined): string {
  if (meta?.objective === "sharpe") return "sharpe";
  return meta?.metric ?? "value";
}

/** The objective recorded in a stored study's user attributes (undefined when cryptoml did not make it). */
export function studyObjective(userAttrs: Readonly<Record<string, unknown>>): StudyObjective | undefined {
  const meta = userAttrs[STUDY_META_ATTR];
  if (meta === null || typeof meta !== "object") return undefined;
  const { objective, metric, costs } = meta as StudyObjective;
  return {
    objective: objective ?? "loss",
    ...(metric === undefined ? {} : { metric }),
    ...(costs === undefined ? {} : { costs }),
  };
}

/**
 * Refuses to continue study `studyName` towards another objective than the one it was created for: its
 * direction cannot change, and its values would not be comparable. Passes when the study does not exist.
 *
 * @throws UsageError naming both objectives and their directions.
 */
export async function requireSameObjective(
  storage: TuningStorage,
  studyName: string,
  objective: ObjectiveKind,
  metric: ObjectiveMetric,
): Promise<void> {
  let studyId: number;
  try {
    studyId = await storage.getStudyIdFromName(studyName);
  } catch (error) {
    if (error instanceof TuningError && error.reason === "STUDY_NOT_FOUND") return;
    throw error;
  }
  const stored = await storage.getStudy(studyId);
  const recorded = studyObjective(stored.userAttrs);
  const direction = objectiveDirection(objective, metric);
  const storedDirection = stored.directions.join(", ");
  const storedObjective = recorded?.objective ?? "loss";
  if (recorded !== undefined && storedObjective === objective && storedDirection === direction) return;
  if (recorded === undefined && storedDirection === direction) return;
  const asked = `${flagsOf(objective, metric)} would ${direction}`;
  if (recorded === undefined) {
    throw new UsageError(
      `study "${studyName}" is to ${storedDirection}; ${asked}: study direction mismatch`,
      {
        hint: "give this search another --study name",
      },
    );
  }
  const was = flagsOf(storedObjective, recorded.metric);
  throw new UsageError(
    `study "${studyName}" was tuned with ${was} (direction ${storedDirection}); ${asked}: study direction mismatch`,
    { hint: `continue it with ${was}, or give this search another --study name` },
  );
}

function flagsOf(objective: ObjectiveKind, metric: ObjectiveMetric | undefined): string {
  return objective === "loss" && metric !== undefined
    ? `--objective loss --metric ${metric}`
    : `--objective ${objective}`;
}
