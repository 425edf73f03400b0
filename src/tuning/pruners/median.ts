/** MedianPruner (Optuna's): the {@link PercentilePruner} at the 50th percentile. */
import { PercentilePruner, type PercentilePrunerOptions } from "./percentile.js";

export class MedianPruner extends PercentilePruner {
  constructor(options: PercentilePrunerOptions = {}) {
    super(50, options);
  }
}
