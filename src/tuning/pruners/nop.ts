/** The pruner that never prunes (Optuna's NopPruner): the default, for studies without intermediate values. */
import type { FrozenTrial, Pruner, StudyView } from "../types.js";

export class NopPruner implements Pruner {
  prune(_study: StudyView, _trial: FrozenTrial): boolean {
    return false;
  }
}
