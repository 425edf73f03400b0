/** The pruners: decide from intermediate values whether a trial should stop early (Optuna's set). */
export { HyperbandPruner, type HyperbandPrunerOptions } from "./hyperband.js";
export { MedianPruner } from "./median.js";
export { NopPruner } from "./nop.js";
export { PercentilePruner, type PercentilePrunerOptions } from "./percentile.js";
export {
  completedRungKey,
  type PrunerWithTrialAttrs,
  SuccessiveHalvingPruner,
  type SuccessiveHalvingPrunerOptions,
} from "./successive-halving.js";
