/**
 * ModelCheckpoint, the policy layer of checkpoints, with the semantics of Lightning's adapted: keep the
 * `saveTopK` best checkpoints by a monitored metric (judged at epoch end), and a resumable
 * `last.safetensors` rewritten at every epoch end, at fit end, every N steps and every T minutes.
 * The files are written through the run's CheckpointIO (atomic) from `context.captureCheckpoint()`.
 */
import { join, normalize } from "node:path";
import { CHECKPOINT_EXTENSION } from "../checkpoint/io.js";
import {
  type Callback,
  callbackError,
  formatValue,
  type HookResult,
  type TrainerContext,
  type TrainingSnapshot,
} from "./types.js";

export interface ModelCheckpointOptions {
  /** Where checkpoints go (default: the run's `context.checkpointDir`). */
  readonly dirpath?: string;
  /** The metric ranking the top-k checkpoints (default "val_loss"). */
  readonly monitor?: string;
  /** Whether lower ("min", default) or higher ("max") is better. */
  readonly mode?: "min" | "max";
  /** How many best checkpoints to keep: an integer >= 0, or -1 for all (default 1; 0 keeps none by metric). */
  readonly saveTopK?: number;
  /** Rewrite `last.safetensors` at each epoch end, at fit end and at every save (default true). */
  readonly saveLast?: boolean;
  /** Also rewrite `last.safetensors` after every optimiser step that is a multiple of this (integer >= 1). */
  readonly everyNSteps?: number;
  /** Also rewrite `last.safetensors` when this many minutes (> 0) passed since it was last written. */
  readonly everyMinutes?: number;
  /** The top-k file name: `{epoch}`, `{step}` and `{metric}` or `{metric:.4f}` placeholders. */
  readonly filename?: string;
  /** The key of the state in checkpoints (default "ModelCheckpoint"). */
  readonly stateKey?: string;
  /** The clock for `everyMinutes`, in milliseconds (default `Date.now`); tests inject a fake one. */
  readonly clock?: () => number;
}

/** One kept top-k checkpoint. */
export interface CheckpointScore {
  readonly path: string;
  readonly score: number;
}

/** The state of a {@link ModelCheckpoint}, as stored in checkpoints (scores are always finite). */
export interface ModelCheckpointState {
  /** The directory the paths below live in; a resumed run with another directory forgets the top k. */
  readonly dirpath: string | null;
  readonly monitor: string;
  readonly mode: "min" | "max";
  readonly bestModelPath: string | null;
  readonly bestModelScore: number | null;
  readonly lastModelPath: string | null;
  /** The kept top-k checkpoints, best first. */
  readonly bestK: readonly CheckpointScore[];
}

/** The name of the resumable checkpoint rewritten in place. */
export const LAST_CHECKPOINT_NAME = `last${CHECKPOINT_EXTENSION}`;

const PLACEHOLDER = /\{([^{}:]+)(?::\.(\d{1,2})f)?\}/g;

export class ModelCheckpoint implements Callback {
  readonly name = "ModelCheckpoint";
  readonly stateKey: string;
  readonly monitor: string;
  readonly mode: "min" | "max";
  readonly saveTopK: number;
  readonly saveLast: boolean;
  readonly everyNSteps: number | undefined;
  readonly everyMinutes: number | undefined;
  readonly filename: string;
  readonly #dirOption: string | undefined;
  readonly #clock: () => number;
  #context: TrainerContext | undefined;
  #bestK: CheckpointScore[] = [];
  #lastModelPath: string | null = null;
  #lastWriteTime: number | undefined;
  /** The directory of a state loaded before `setup`, checked once the directory is known. */
  #loadedDir: string | null | undefined;

  /** @throws CryptomlError (USAGE) quoting the option, its value and the rule, e.g. `saveTopK=-2 must be >= -1`. */
  constructor(options: ModelCheckpointOptions = {}) {
    const { monitor = "val_loss", mode = "min", saveTopK = 1, saveLast = true } = options;
    const { everyNSteps, everyMinutes, dirpath, stateKey = "ModelCheckpoint" } = options;
    const fail = (what: string, value: unknown, rule: string, hint?: string) =>
      callbackError(`ModelCheckpoint: ${what}=${formatValue(value)} ${rule}`, hint);
    if (typeof monitor !== "string" || monitor === "")
      throw fail("monitor", monitor, "must be a metric name");
    if (mode !== "min" && mode !== "max") throw fail("mode", mode, 'must be "min" or "max"');
    if (!Number.isSafeInteger(saveTopK) || saveTopK < -1) {
      throw fail("saveTopK", saveTopK, "must be an integer >= -1", "-1 keeps all, 0 none, k the k best");
    }
    if (typeof saveLast !== "boolean") throw fail("saveLast", saveLast, "must be true or false");
    if (everyNSteps !== undefined && (!Number.isSafeInteger(everyNSteps) || everyNSteps < 1)) {
      throw fail("everyNSteps", everyNSteps, "must be an integer >= 1");
    }
    if (
      everyMinutes !== undefined &&
      (typeof everyMinutes !== "number" || !Number.isFinite(everyMinutes) || everyMinutes <= 0)
    ) {
      throw fail("everyMinutes", everyMinutes, "must be a finite number > 0");
    }
    // Step and time triggers write last.safetensors; without saveLast they would have nothing to write.
    if (!saveLast && (everyNSteps !== undefined || everyMinutes !== undefined)) {
      throw fail(
        "saveLast",
        saveLast,
        "conflicts with everyNSteps/everyMinutes, which rewrite last.safetensors",
        "keep saveLast true (the default) or drop everyNSteps/everyMinutes",
      );
    }
    if (dirpath !== undefined && (typeof dirpath !== "string" || dirpath === "")) {
      throw fail("dirpath", dirpath, "must be a non-empty path");
    }
    const filename = options.filename ?? `epoch={epoch}-step={step}-${monitor}={${monitor}:.4f}`;
    if (typeof filename !== "string" || filename.replace(PLACEHOLDER, "x").replace(/[^{}]/g, "") !== "") {
      throw fail(
        "filename",
        filename,
        "must be text with {name} or {name:.Nf} placeholders",
        'e.g. "epoch={epoch}-val_loss={val_loss:.4f}"',
      );
    }
    if (filename === "" || sanitise(filename) === LAST_CHECKPOINT_NAME) {
      throw fail("filename", filename, `must not be empty or name ${LAST_CHECKPOINT_NAME}`);
    }
    if (typeof stateKey !== "string" || stateKey === "") {
      throw fail("stateKey", stateKey, "must be a non-empty string");
    }
    const clock = options.clock ?? Date.now;
    if (typeof clock !== "function") throw fail("clock", clock, "must be a function returning milliseconds");
    this.monitor = monitor;
    this.mode = mode;
    this.saveTopK = saveTopK;
    this.saveLast = saveLast;
    this.everyNSteps = everyNSteps;
    this.everyMinutes = everyMinutes;
    this.filename = filename;
    this.stateKey = stateKey;
    this.#dirOption = dirpath;
    this.#clock = clock;
  }

  /** The directory checkpoints go to; undefined before `setup` when no `dirpath` option was given. */
  get dirpath(): string | undefined {
    return this.#dirOption ?? this.#context?.checkpointDir;
  }

  /** The path of the best checkpoint so far, or null. */
  get bestModelPath(): string | null {
    return this.#bestK[0]?.path ?? null;
  }

  /** The monitored value of the best checkpoint so far, or null. */
  get bestModelScore(): number | null {
    return this.#bestK[0]?.score ?? null;
  }

  /** The path of `last.safetensors` once written, else null. */
  get lastModelPath(): string | null {
    return this.#lastModelPath;
  }

  /** The kept top-k checkpoints, best first. */
  get bestK(): readonly CheckpointScore[] {
    return this.#bestK.map((entry) => ({ ...entry }));
  }

  setup(context: TrainerContext): void {
    this.#context = context;
    this.#lastWriteTime = this.#clock();
    this.#checkLoadedDir();
  }

  /** Rewrites last.safetensors when the step is a multiple of `everyNSteps` or `everyMinutes` passed. */
  async onStepEnd(snapshot: TrainingSnapshot): Promise<HookResult> {
    const context = this.#require();
    const byStep =
      this.everyNSteps !== undefined && snapshot.step > 0 && snapshot.step % this.everyNSteps === 0;
    const byTime =
      this.everyMinutes !== undefined &&
      this.#clock() - (this.#lastWriteTime ?? 0) >= this.everyMinutes * 60_000;
    if (byStep || byTime) await this.#write(context, []);
  }

  /**
   * The top-k decision, on the epoch's metrics (validation included), then last.safetensors. Done here
   * rather than in onValidationEnd so the train metrics can be used too and callbacks listed before this
   * one have updated their states for the epoch before it is captured.
   * @throws CryptomlError (USAGE) when the epoch's metrics lack `monitor` (with saveTopK != 0).
   */
  async onEpochEnd(snapshot: TrainingSnapshot): Promise<HookResult> {
    const context = this.#require();
    const topKPath = this.saveTopK === 0 ? undefined : this.#considerTopK(snapshot, context);
    if (topKPath === undefined) {
      if (this.saveLast) await this.#write(context, []);
      return;
    }
    const previous = this.#bestK;
    const entry = { path: topKPath, score: snapshot.metrics[this.monitor] as number };
    const ranked = [...previous, entry].sort((a, b) => this.#compare(a.score, b.score));
    const kept = this.saveTopK === -1 ? ranked : ranked.slice(0, this.saveTopK);
    const evicted = ranked.filter((e) => !kept.includes(e) && e.path !== topKPath);
    // Book-keep before capturing, so the state inside the new checkpoint already lists it.
    this.#bestK = kept;
    try {
      await this.#write(context, [topKPath]);
    } catch (error) {
      this.#bestK = previous;
      throw error;
    }
    // Removed only after the new file is safely written: a crash in between leaves one file too many.
    for (const gone of evicted) await context.io.remove(gone.path);
  }

  /** Rewrites last.safetensors, so a run stopped early (deadline, Ctrl-C, EarlyStopping) can resume. */
  async onFitEnd(_snapshot: TrainingSnapshot): Promise<HookResult> {
    if (this.saveLast) await this.#write(this.#require(), []);
  }

  stateDict(): ModelCheckpointState {
    return {
      dirpath: this.dirpath ?? null,
      monitor: this.monitor,
      mode: this.mode,
      bestModelPath: this.bestModelPath,
      bestModelScore: this.bestModelScore,
      lastModelPath: this.#lastModelPath,
      bestK: this.bestK,
    };
  }

  /** @throws CryptomlError (USAGE) quoting the field that does not match {@link ModelCheckpointState}. */
  loadStateDict(state: unknown): void {
    const fail = (what: string, value: unknown, rule: string) =>
      callbackError(`ModelCheckpoint state.${what}=${formatValue(value)} ${rule}`);
    if (typeof state !== "object" || state === null || Array.isArray(state)) {
      throw callbackError(`ModelCheckpoint state=${formatValue(state)} must be an object`);
    }
    const s = state as Record<string, unknown>;
    const nullablePath = (key: string) => {
      const value = s[key];
      if (value !== null && (typeof value !== "string" || value === "")) {
        throw fail(key, value, "must be a path or null");
      }
      return value as string | null;
    };
    const dirpath = nullablePath("dirpath");
    const lastModelPath = nullablePath("lastModelPath");
    if (s.monitor !== this.monitor || s.mode !== this.mode) {
      throw callbackError(
        `ModelCheckpoint state was written with monitor=${formatValue(s.monitor)} mode=${formatValue(s.mode)}, but this one has monitor="${this.monitor}" mode="${this.mode}"`,
        "resume with the same ModelCheckpoint options, or give this one another stateKey",
      );
    }
    if (!Array.isArray(s.bestK)) throw fail("bestK", s.bestK, "must be an array of { path, score }");
    const bestK = s.bestK.map((entry: unknown, i: number) => {
      const { path, score } = (entry ?? {}) as Record<string, unknown>;
      if (typeof path !== "string" || path === "") throw fail(`bestK[${i}].path`, path, "must be a path");
      if (typeof score !== "number" || !Number.isFinite(score)) {
        throw fail(`bestK[${i}].score`, score, "must be a finite number");
      }
      return { path, score };
    });
    for (let i = 1; i < bestK.length; i++) {
      if (this.#compare((bestK[i - 1] as CheckpointScore).score, (bestK[i] as CheckpointScore).score) > 0) {
        throw fail("bestK", s.bestK, `must be sorted best first (mode "${this.mode}")`);
      }
    }
    if (this.saveTopK !== -1 && bestK.length > this.saveTopK) {
      throw fail("bestK", `${bestK.length} entries`, `exceeds saveTopK=${this.saveTopK}`);
    }
    const best = bestK[0];
    if (
      nullablePath("bestModelPath") !== (best?.path ?? null) ||
      s.bestModelScore !== (best?.score ?? null)
    ) {
      throw fail(
        "bestModelPath",
        s.bestModelPath,
        "must be the first entry of bestK (or null when it is empty)",
      );
    }
    this.#bestK = bestK;
    this.#lastModelPath = lastModelPath;
    this.#loadedDir = dirpath;
    this.#checkLoadedDir();
  }

  /**
   * Lightning's rule: the top k of a state written for another directory are not this run's files, so
   * they are forgotten rather than deleted when they fall out of the top k.
   */
  #checkLoadedDir(): void {
    const dir = this.dirpath;
    const loaded = this.#loadedDir;
    if (loaded === undefined || dir === undefined) return;
    this.#loadedDir = undefined;
    if (loaded === null || normalize(loaded) === normalize(dir)) return;
    this.#bestK = [];
    this.#lastModelPath = null;
    this.#context?.log(
      `ModelCheckpoint: the checkpoint's state is for directory ${loaded}, this run writes to ${dir}; starting a fresh top ${this.saveTopK}`,
    );
  }

  /** The file path for this epoch's checkpoint when it enters the top k, else undefined. */
  #considerTopK(snapshot: TrainingSnapshot, context: TrainerContext): string | undefined {
    const current = snapshot.metrics[this.monitor];
    if (current === undefined) {
      const available = Object.keys(snapshot.metrics);
      throw callbackError(
        `ModelCheckpoint: monitor="${this.monitor}" is not among the epoch's metrics (${available.length === 0 ? "none" : available.join(", ")})`,
        "set monitor to one of them (validation metrics need a validation set), or saveTopK: 0",
      );
    }
    if (!Number.isFinite(current)) {
      context.log(
        `ModelCheckpoint: ${this.monitor}=${current} at epoch ${snapshot.epoch} is not finite; not ranked among the best checkpoints`,
      );
      return undefined;
    }
    const worst = this.#bestK[this.#bestK.length - 1];
    const full = this.saveTopK !== -1 && this.#bestK.length >= this.saveTopK;
    // Strictly better than the k-th, as Lightning: on a tie the older checkpoint stays.
    if (full && worst !== undefined && this.#compare(current, worst.score) >= 0) return undefined;
    return this.#uniquePath(join(this.#dir(context), this.#format(snapshot)));
  }

  /** `{epoch}`, `{step}` and metric placeholders filled in, made safe as a single file name. */
  #format(snapshot: TrainingSnapshot): string {
    const text = this.filename.replace(PLACEHOLDER, (_match, key: string, digits: string | undefined) => {
      const value = key === "epoch" ? snapshot.epoch : key === "step" ? snapshot.step : snapshot.metrics[key];
      if (value === undefined) {
        throw callbackError(
          `ModelCheckpoint: filename=${JSON.stringify(this.filename)} uses {${key}}, which is not among the epoch's metrics (${Object.keys(snapshot.metrics).join(", ") || "none"})`,
          "use {epoch}, {step} or one of those metrics",
        );
      }
      return digits === undefined ? String(value) : value.toFixed(Number(digits));
    });
    return sanitise(text);
  }

  /** Lightning's `-v1` suffix, when a pattern without `{epoch}`/`{step}` repeats a kept name. */
  #uniquePath(path: string): string {
    const stem = path.slice(0, -CHECKPOINT_EXTENSION.length);
    let candidate = path;
    for (let v = 1; this.#bestK.some((e) => e.path === candidate); v++) {
      candidate = `${stem}-v${v}${CHECKPOINT_EXTENSION}`;
    }
    return candidate;
  }

  /** Captures the run once and writes it to `extra` paths and, with saveLast, to last.safetensors. */
  async #write(context: TrainerContext, extra: readonly string[]): Promise<void> {
    const previousLast = this.#lastModelPath;
    if (this.saveLast) this.#lastModelPath = join(this.#dir(context), LAST_CHECKPOINT_NAME);
    const targets = this.saveLast ? [...extra, this.#lastModelPath as string] : extra;
    if (targets.length === 0) return;
    try {
      const state = context.captureCheckpoint();
      for (const path of targets) await context.io.write(path, state);
    } catch (error) {
      this.#lastModelPath = previousLast;
      throw error;
    }
    this.#lastWriteTime = this.#clock();
  }

  #dir(context: TrainerContext): string {
    return this.#dirOption ?? context.checkpointDir;
  }

  /** Negative when `a` is better than `b`. */
  #compare(a: number, b: number): number {
    return this.mode === "min" ? a - b : b - a;
  }

  #require(): TrainerContext {
    if (this.#context === undefined) {
      throw callbackError(
        "ModelCheckpoint was not set up: it needs the run's TrainerContext to write checkpoints",
        "pass it to a Trainer (which calls setup), or call setup(context) before the hooks",
      );
    }
    return this.#context;
  }
}

/** `text` as one safe file name ending in .safetensors: no separators, spaces or leading dots. */
function sanitise(text: string): string {
  const stem = text.endsWith(CHECKPOINT_EXTENSION) ? text.slice(0, -CHECKPOINT_EXTENSION.length) : text;
  const safe = stem.replace(/[^A-Za-z0-9._=+-]/g, "_").replace(/^\.+/, "_");
  return `${safe}${CHECKPOINT_EXTENSION}`;
}
