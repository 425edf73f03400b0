/**
 * The one typed dispatcher between the Trainer and its callbacks: calls a hook on every callback that
 * defines it, in order, collects stop requests, and saves and restores callback states by `stateKey`.
 */
import { CryptomlError } from "../../core/errors.js";
import {
  type Callback,
  callbackError,
  callbackName,
  type HookName,
  isStopRequest,
  type StopRequest,
  type TrainerContext,
  type TrainingSnapshot,
} from "./types.js";

/** A hook or state method of a callback. */
export type CallbackMethod = HookName | "setup" | "stateDict" | "loadStateDict";

/** A callback failed inside a hook; `cause` is what it threw. */
export class CallbackError extends CryptomlError {
  readonly callback: string;
  readonly hook: CallbackMethod;

  /** Keeps the code and hint of a CryptomlError cause (a malformed state stays USAGE); INTERNAL otherwise. */
  constructor(callback: string, hook: CallbackMethod, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const known = cause instanceof CryptomlError ? cause : undefined;
    super(known?.code ?? "INTERNAL", `callback ${callback} failed in ${hook}: ${message}`, {
      cause,
      ...(known?.hint === undefined ? {} : { hint: known.hint }),
    });
    this.callback = callback;
    this.hook = hook;
  }
}

/** One stop request, with the callback that made it. */
export interface CollectedStop {
  readonly callback: string;
  readonly hook: HookName;
  readonly reason: string;
}

export interface LoadStateOptions {
  /** Refuse states whose key no callback declares (default true). */
  readonly strict?: boolean;
}

type StepHookName = Exclude<HookName, "onException">;

export class CallbackDispatcher {
  readonly #callbacks: readonly Callback[];
  readonly #names: readonly string[];
  readonly #byKey = new Map<string, number>();
  readonly #stops: CollectedStop[] = [];

  /**
   * @throws CryptomlError (USAGE) when two callbacks declare the same `stateKey` (naming both), or a
   *   callback defines state methods without a `stateKey` or a `stateKey` without both state methods.
   */
  constructor(callbacks: readonly Callback[]) {
    this.#callbacks = [...callbacks];
    this.#names = this.#callbacks.map((c, i) => callbackName(c, i));
    this.#callbacks.forEach((callback, i) => {
      const name = this.#names[i] as string;
      const hasMethods =
        typeof callback.stateDict === "function" || typeof callback.loadStateDict === "function";
      const key = callback.stateKey;
      if (key === undefined) {
        if (hasMethods) throw callbackError(`callback ${name} has state methods but no stateKey`);
        return;
      }
      if (typeof key !== "string" || key === "") {
        throw callbackError(`callback ${name}: stateKey=${JSON.stringify(key)} must be a non-empty string`);
      }
      if (typeof callback.stateDict !== "function" || typeof callback.loadStateDict !== "function") {
        throw callbackError(
          `callback ${name} has stateKey "${key}" but not both stateDict and loadStateDict`,
        );
      }
      const other = this.#byKey.get(key);
      if (other !== undefined) {
        throw callbackError(
          `callbacks ${this.#names[other]} and ${name} both use stateKey "${key}"`,
          "give one of them another stateKey (most built-in callbacks accept a stateKey option)",
        );
      }
      this.#byKey.set(key, i);
    });
  }

  /** The callbacks, in dispatch order. */
  get callbacks(): readonly Callback[] {
    return this.#callbacks;
  }

  /** The first stop request of the run, or undefined while none was made. */
  get stopRequest(): StopRequest | undefined {
    const first = this.#stops[0];
    return first === undefined ? undefined : { stop: true, reason: `${first.callback}: ${first.reason}` };
  }

  /** Every stop request of the run, in the order they were made. */
  get stops(): readonly CollectedStop[] {
    return [...this.#stops];
  }

  /** Calls `setup(context)` on each callback that defines it, in order. */
  async setup(context: TrainerContext): Promise<void> {
    for (const [i, callback] of this.#callbacks.entries()) {
      if (typeof callback.setup !== "function") continue;
      try {
        await callback.setup(context);
      } catch (error) {
        throw new CallbackError(this.#names[i] as string, "setup", error);
      }
    }
  }

  /**
   * Calls `hook` on each callback that defines it, in order, awaiting each before the next. Every
   * callback is called even after one asks to stop.
   * @returns the first stop request of this call (reason prefixed with the callback name), or undefined.
   * @throws CallbackError naming the callback and hook when a callback throws; later callbacks are not called.
   */
  async dispatch(hook: StepHookName, snapshot: TrainingSnapshot): Promise<StopRequest | undefined> {
    const before = this.#stops.length;
    for (const [i, callback] of this.#callbacks.entries()) {
      const fn = callback[hook];
      if (typeof fn !== "function") continue;
      const name = this.#names[i] as string;
      let result: unknown;
      try {
        result = await fn.call(callback, snapshot);
      } catch (error) {
        throw new CallbackError(name, hook, error);
      }
      this.#collect(name, hook, result);
    }
    return this.#firstSince(before);
  }

  /**
   * Calls `onException` on each callback that defines it, in order; every callback is called even when
   * an earlier one throws, and the first such failure is then thrown as a CallbackError.
   */
  async dispatchException(snapshot: TrainingSnapshot, error: unknown): Promise<StopRequest | undefined> {
    const before = this.#stops.length;
    let failure: CallbackError | undefined;
    for (const [i, callback] of this.#callbacks.entries()) {
      if (typeof callback.onException !== "function") continue;
      const name = this.#names[i] as string;
      try {
        this.#collect(name, "onException", await callback.onException(snapshot, error));
      } catch (thrown) {
        failure ??= new CallbackError(name, "onException", thrown);
      }
    }
    if (failure !== undefined) throw failure;
    return this.#firstSince(before);
  }

  /** Each stateful callback's `stateDict()`, by `stateKey`, for `CheckpointState.callbacks`. */
  stateDicts(): Record<string, unknown> {
    const states: Record<string, unknown> = {};
    for (const [key, i] of this.#byKey) {
      const callback = this.#callbacks[i] as Callback;
      try {
        states[key] = callback.stateDict?.();
      } catch (error) {
        throw new CallbackError(this.#names[i] as string, "stateDict", error);
      }
    }
    return states;
  }

  /**
   * Restores each callback's state from `states` (`CheckpointState.callbacks`). A callback whose key is
   * absent keeps its fresh state.
   * @throws CryptomlError (USAGE) for a key no callback declares, unless `strict: false`; CallbackError
   *   (with the callback's own code and hint) for a malformed state.
   */
  loadStateDicts(states: Readonly<Record<string, unknown>>, options: LoadStateOptions = {}): void {
    if (typeof states !== "object" || states === null || Array.isArray(states)) {
      throw callbackError("callback states must be an object keyed by stateKey");
    }
    const strict = options.strict ?? true;
    if (strict) {
      const unknown = Object.keys(states).filter((key) => !this.#byKey.has(key));
      if (unknown.length > 0) {
        const known = [...this.#byKey.keys()];
        throw callbackError(
          `the checkpoint holds state for ${unknown.map((k) => `"${k}"`).join(", ")} but no callback has that stateKey (callbacks with state: ${known.length === 0 ? "none" : known.map((k) => `"${k}"`).join(", ")})`,
          "resume with the same callbacks as the run that wrote the checkpoint, or load with strict: false",
        );
      }
    }
    for (const [key, i] of this.#byKey) {
      if (!Object.hasOwn(states, key)) continue;
      try {
        this.#callbacks[i]?.loadStateDict?.(states[key]);
      } catch (error) {
        throw new CallbackError(this.#names[i] as string, "loadStateDict", error);
      }
    }
  }

  #collect(callback: string, hook: HookName, result: unknown): void {
    if (result === undefined) return;
    if (!isStopRequest(result)) {
      throw new CallbackError(
        callback,
        hook,
        new Error(`returned ${JSON.stringify(result)}; a hook returns nothing or { stop: true, reason }`),
      );
    }
    this.#stops.push({ callback, hook, reason: result.reason });
  }

  #firstSince(index: number): StopRequest | undefined {
    const first = this.#stops[index];
    return first === undefined ? undefined : { stop: true, reason: `${first.callback}: ${first.reason}` };
  }
}
