/**
 * HyperbandPruner (Li et al., 2018; Optuna's semantics): several SuccessiveHalving brackets, each with
 * a larger minEarlyStoppingRate (later first rung, so less aggressive), and every trial assigned to one
 * bracket by a hash of the study name and trial number, as Optuna does (crc32 of "<study>_<number>"
 * modulo the total trial budget), so a study shared with Optuna assigns trials alike. Each bracket's
 * pruner only sees the trials of its own bracket.
 */
import { CryptomlError } from "../../core/errors.js";
import { lastStep } from "../frozen.js";
import type { FrozenTrial, StudyView, TrialState } from "../types.js";
import { type PrunerWithTrialAttrs, SuccessiveHalvingPruner } from "./successive-halving.js";

export interface HyperbandPrunerOptions {
  /** Steps before a bracket's first rung at rate 0 (default 1). */
  readonly minResource?: number;
  /** The most steps a trial runs, or "auto": the longest COMPLETE trial's last step + 1 (default). */
  readonly maxResource?: number | "auto";
  /** Default 3. */
  readonly reductionFactor?: number;
  readonly bootstrapCount?: number;
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** zlib's crc32 of the UTF-8 bytes of `text`, as Python's `binascii.crc32` (unsigned). */
export function crc32(text: string): number {
  let c = -1;
  for (const byte of Buffer.from(text, "utf8")) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export class HyperbandPruner implements PrunerWithTrialAttrs {
  private readonly minResource: number;
  private maxResource: number | "auto";
  private readonly reductionFactor: number;
  private readonly bootstrapCount: number;
  private readonly pruners: SuccessiveHalvingPruner[] = [];
  private readonly budgets: number[] = [];
  private totalBudget = 0;

  constructor(options: HyperbandPrunerOptions = {}) {
    this.minResource = options.minResource ?? 1;
    this.maxResource = options.maxResource ?? "auto";
    this.reductionFactor = options.reductionFactor ?? 3;
    this.bootstrapCount = options.bootstrapCount ?? 0;
    if (!Number.isInteger(this.minResource) || this.minResource < 1) {
      throw new CryptomlError(
        "USAGE",
        `HyperbandPruner minResource=${this.minResource} must be an integer >= 1`,
      );
    }
    if (
      this.maxResource !== "auto" &&
      !(Number.isInteger(this.maxResource) && this.maxResource >= this.minResource)
    ) {
      throw new CryptomlError(
        "USAGE",
        `HyperbandPruner maxResource=${this.maxResource} must be "auto" or an integer >= minResource`,
      );
    }
    if (!Number.isInteger(this.reductionFactor) || this.reductionFactor < 2) {
      throw new CryptomlError(
        "USAGE",
        `HyperbandPruner reductionFactor=${this.reductionFactor} must be an integer >= 2`,
      );
    }
    if (this.bootstrapCount > 0 && this.maxResource === "auto") {
      throw new CryptomlError(
        "USAGE",
        'HyperbandPruner bootstrapCount > 0 needs an explicit maxResource, not "auto"',
      );
    }
  }

  /** Number of brackets, once known (after the first COMPLETE trial when maxResource is "auto"). */
  get nBrackets(): number {
    return this.pruners.length;
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    if (this.pruners.length === 0) {
      this.initialise(study);
      if (this.pruners.length === 0) return false;
    }
    const id = this.bracketOf(study, trial);
    return (this.pruners[id] as SuccessiveHalvingPruner).prune(this.bracketView(study, id), trial);
  }

  pendingSystemAttrs(study: StudyView, trial: FrozenTrial): Record<string, unknown> {
    if (this.pruners.length === 0) return {};
    const id = this.bracketOf(study, trial);
    return (this.pruners[id] as SuccessiveHalvingPruner).pendingSystemAttrs(
      this.bracketView(study, id),
      trial,
    );
  }

  /** The bracket (0 = most aggressive) a trial belongs to; 0 until the brackets are known. */
  bracketOf(study: StudyView, trial: Pick<FrozenTrial, "number">): number {
    if (this.pruners.length === 0) return 0;
    let n = crc32(`${study.studyName}_${trial.number}`) % this.totalBudget;
    for (let id = 0; id < this.budgets.length; id++) {
      n -= this.budgets[id] as number;
      if (n < 0) return id;
    }
    throw new Error("unreachable: bracket budgets cover the hash range");
  }

  private initialise(study: StudyView): void {
    if (this.maxResource === "auto") {
      let longest: number | undefined;
      for (const t of study.getTrials(["COMPLETE"])) {
        const s = lastStep(t);
        if (s !== undefined && (longest === undefined || s > longest)) longest = s;
      }
      if (longest === undefined) return;
      this.maxResource = longest + 1;
    }
    const rf = this.reductionFactor;
    // Python's math.log(x, base) is log(x)/log(base); the same floating-point form gives the same floor.
    const nBrackets = Math.floor(Math.log(this.maxResource / this.minResource) / Math.log(rf)) + 1;
    for (let id = 0; id < nBrackets; id++) {
      const s = nBrackets - 1 - id;
      const budget = Math.ceil((nBrackets * rf ** s) / (s + 1));
      this.budgets.push(budget);
      this.totalBudget += budget;
      this.pruners.push(
        new SuccessiveHalvingPruner({
          minResource: this.minResource,
          reductionFactor: rf,
          minEarlyStoppingRate: id,
          bootstrapCount: this.bootstrapCount,
        }),
      );
    }
  }

  private bracketView(study: StudyView, id: number): StudyView {
    return {
      studyName: study.studyName,
      directions: study.directions,
      getTrials: (states?: readonly TrialState[]) =>
        study.getTrials(states).filter((t) => this.bracketOf(study, t) === id),
    };
  }
}
