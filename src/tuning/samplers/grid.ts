/**
 * Exhaustive search over a given grid (Optuna's GridSampler). The grid points are shuffled once with the
 * seed; trial n takes point n, later trials an unvisited point. The point is claimed through the trial's
 * system attributes `grid_id` and `search_space`, the same keys Optuna writes, so that several workers on
 * one storage (and Optuna's own GridSampler) share the grid. `Study.optimize` stops once every point is
 * finished (`isExhausted`).
 */
import { Rng } from "../../engine/random.js";
import { choiceEqual, contains, defaultWarn, toInternal, type WarningSink } from "../distributions.js";
import { TuningError } from "../errors.js";
import { isFinishedState, type SamplerHooks } from "../frozen.js";
import type { Distribution, FrozenTrial, ParamValue, StudyView } from "../types.js";

export type GridValue = string | number | boolean | null;

export interface GridSamplerOptions {
  /** Seed of the shuffle of the grid points and of the pick among unvisited ones. Default 0, as Optuna. */
  seed?: number;
  warn?: WarningSink;
}

export class GridSampler implements SamplerHooks {
  private readonly space: Record<string, GridValue[]>;
  private readonly names: string[];
  private readonly grids: GridValue[][];
  private readonly rng: Rng;
  private readonly warn: WarningSink;

  constructor(searchSpace: Readonly<Record<string, readonly GridValue[]>>, options: GridSamplerOptions = {}) {
    this.names = Object.keys(searchSpace).sort();
    this.space = {};
    for (const name of this.names) {
      const values = [...(searchSpace[name] ?? [])];
      if (values.length === 0) {
        throw new TuningError("INVALID_VALUE", `grid "${name}" has no values`, {
          hint: "give at least one value per parameter",
        });
      }
      for (const v of values) {
        if (v !== null && !["string", "number", "boolean"].includes(typeof v)) {
          throw new TuningError(
            "INVALID_VALUE",
            `grid "${name}" holds ${String(v)}, not string | number | boolean | null`,
          );
        }
      }
      this.space[name] = values;
    }
    this.grids = this.names.reduce<GridValue[][]>(
      (acc, name) => acc.flatMap((prefix) => (this.space[name] ?? []).map((v) => [...prefix, v])),
      [[]],
    );
    this.rng = new Rng(options.seed ?? 0);
    this.rng.shuffle(this.grids);
    this.warn = options.warn ?? defaultWarn;
  }

  /** How many points the grid has. */
  get size(): number {
    return this.grids.length;
  }

  beforeTrial(study: StudyView, trial: FrozenTrial): Record<string, unknown> | undefined {
    if ("grid_id" in trial.systemAttrs || "fixed_params" in trial.systemAttrs) return undefined;
    if (trial.number >= 0 && trial.number < this.grids.length) {
      return { search_space: this.space, grid_id: trial.number };
    }
    let targets = this.unvisited(study);
    if (targets.length === 0) {
      this.warn("GridSampler is re-evaluating a configuration because the grid has been exhausted.");
      targets = this.grids.map((_, i) => i);
    }
    return { search_space: this.space, grid_id: targets[this.rng.int(targets.length)] };
  }

  inferRelativeSearchSpace(_study: StudyView, _trial: FrozenTrial): Record<string, Distribution> {
    return {};
  }

  sampleRelative(
    _study: StudyView,
    _trial: FrozenTrial,
    _space: Record<string, Distribution>,
  ): Record<string, ParamValue> {
    return {};
  }

  sampleIndependent(
    _study: StudyView,
    trial: FrozenTrial,
    name: string,
    distribution: Distribution,
  ): ParamValue {
    const gridId = trial.systemAttrs.grid_id;
    if (typeof gridId !== "number") {
      throw new TuningError("INVALID_VALUE", `trial ${trial.number} has no grid point for "${name}"`, {
        hint: "an enqueued trial must fix every parameter when the study uses GridSampler",
      });
    }
    const index = this.names.indexOf(name);
    if (index < 0) {
      throw new TuningError(
        "INVALID_VALUE",
        `parameter "${name}" is not in the grid (${this.names.join(", ")})`,
        {
          hint: "add it to the GridSampler search space or suggest only grid parameters",
        },
      );
    }
    const value = this.grids[gridId]?.[index] as GridValue;
    if (!contains(distribution, toInternal(distribution, value))) {
      this.warn(
        `The value ${JSON.stringify(value)} is out of range of the parameter "${name}"; it is used anyway.`,
      );
    }
    return value;
  }

  /** Whether every grid point has a finished trial. */
  isExhausted(study: StudyView): boolean {
    return this.unvisited(study).length === 0;
  }

  /** Grid ids with no finished trial (nor a running one, unless only running ones are left). */
  private unvisited(study: StudyView): number[] {
    const visited = new Set<number>();
    const running = new Set<number>();
    for (const t of study.getTrials()) {
      const id = t.systemAttrs.grid_id;
      if (typeof id !== "number" || !this.sameSpace(t.systemAttrs.search_space)) continue;
      if (isFinishedState(t.state)) visited.add(id);
      else if (t.state === "RUNNING") running.add(id);
    }
    const all = this.grids.map((_, i) => i).filter((i) => !visited.has(i));
    const free = all.filter((i) => !running.has(i));
    return free.length > 0 ? free : all;
  }

  private sameSpace(other: unknown): boolean {
    if (typeof other !== "object" || other === null) return false;
    const o = other as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length !== this.names.length || !keys.every((k) => k in this.space)) return false;
    return this.names.every((name) => {
      const mine = this.space[name] ?? [];
      const theirs = o[name];
      return (
        Array.isArray(theirs) &&
        theirs.length === mine.length &&
        mine.every((v, i) => choiceEqual(v, theirs[i]))
      );
    });
  }
}
