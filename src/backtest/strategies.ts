/**
 * Strategies turn one prediction into a target position, a signed fraction of equity in [−1, 1].
 * They see only the prediction, so they cannot look ahead; the engine decides when it is entered.
 */
import { UsageError } from "../core/errors.js";
import { BacktestInputError, type Prediction, type StrategySpec } from "./types.js";

const DEFAULT_SCALE = { probability: 1, magnitude: 100 } as const;

/** Throws a UsageError naming the field, value and rule when the spec cannot be used. */
export function validateStrategy(spec: StrategySpec): void {
  const kind = (spec as { kind?: unknown }).kind;
  if (kind === "sign" || kind === "long_only") {
    const { threshold } = spec as { threshold: unknown };
    if (typeof threshold !== "number" || !Number.isFinite(threshold) || threshold < 0) {
      throw new UsageError(`strategy ${kind}: threshold=${String(threshold)} must be a finite number >= 0`, {
        hint: "the threshold is on the forecast log return, e.g. 0.001 for a 0.1% dead band",
      });
    }
    return;
  }
  if (kind === "sized") {
    const { by, cap, scale } = spec as { by: unknown; cap: unknown; scale?: unknown };
    if (by !== "probability" && by !== "magnitude") {
      throw new UsageError(`strategy sized: by=${String(by)} must be "probability" or "magnitude"`);
    }
    if (typeof cap !== "number" || !(cap > 0 && cap <= 1)) {
      throw new UsageError(`strategy sized: cap=${String(cap)} must be in (0, 1]`, {
        hint: "cap is the largest fraction of equity held, 1 meaning fully invested",
      });
    }
    if (scale !== undefined && (typeof scale !== "number" || !Number.isFinite(scale) || scale <= 0)) {
      throw new UsageError(`strategy sized: scale=${String(scale)} must be a finite number > 0`);
    }
    return;
  }
  throw new UsageError(`unknown strategy kind "${String(kind)}"`, {
    hint: 'use "sign", "long_only" or "sized"',
  });
}

function need(value: number | undefined, field: string, prediction: Prediction, spec: StrategySpec): number {
  if (value === undefined || !Number.isFinite(value)) {
    throw new BacktestInputError(
      `prediction at row ${prediction.endRow} has ${field}=${String(value)}, but strategy ${spec.kind} needs a finite ${field}`,
      {
        hint: "regression models give expectedReturn; classifiers give probabilityUp (use sized by probability)",
      },
    );
  }
  return value;
}

/** Target position in [−1, 1] for one prediction; validates the spec and the fields it reads. */
export function targetPosition(spec: StrategySpec, prediction: Prediction): number {
  validateStrategy(spec);
  switch (spec.kind) {
    case "sign": {
      const r = need(prediction.expectedReturn, "expectedReturn", prediction, spec);
      return r > spec.threshold ? 1 : r < -spec.threshold ? -1 : 0;
    }
    case "long_only": {
      const r = need(prediction.expectedReturn, "expectedReturn", prediction, spec);
      return r > spec.threshold ? 1 : 0;
    }
    case "sized": {
      const scale = spec.scale ?? DEFAULT_SCALE[spec.by];
      let raw: number;
      if (spec.by === "probability") {
        const p = need(prediction.probabilityUp, "probabilityUp", prediction, spec);
        if (p < 0 || p > 1) {
          throw new BacktestInputError(
            `prediction at row ${prediction.endRow} has probabilityUp=${p} outside [0, 1]`,
            {
              hint: "pass the model's probability, not a logit",
            },
          );
        }
        raw = scale * (2 * p - 1);
      } else {
        raw = scale * need(prediction.expectedReturn, "expectedReturn", prediction, spec);
      }
      const low = spec.longOnly === true ? 0 : -spec.cap;
      // `+ 0` turns −0 into 0 so that flat positions compare and print as 0.
      return Math.min(spec.cap, Math.max(low, raw)) + 0;
    }
  }
}
