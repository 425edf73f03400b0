import { describe, expect, it } from "vitest";
import type { CryptomlError } from "../../core/errors.js";
import { CallbackDispatcher, CallbackError } from "./dispatcher.js";
import { EarlyStopping } from "./early-stopping.js";
import { type Callback, createSnapshot, stopRequest, type TrainingSnapshot } from "./types.js";

const snap = (over: Partial<TrainingSnapshot> = {}): TrainingSnapshot =>
  createSnapshot({
    epoch: 0,
    step: 1,
    positionInEpoch: 1,
    metrics: { loss: 1 },
    learningRate: 0.01,
    elapsedMs: 5,
    ...over,
  });

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

class Counter implements Callback {
  readonly name: string;
  readonly stateKey: string;
  count = 0;
  constructor(key: string) {
    this.name = `Counter(${key})`;
    this.stateKey = key;
  }
  onStepEnd() {
    this.count += 1;
  }
  stateDict() {
    return { count: this.count };
  }
  loadStateDict(state: unknown) {
    this.count = (state as { count: number }).count;
  }
}

describe("CallbackDispatcher", () => {
  it("calls each defining callback in order, awaiting each before the next", async () => {
    const log: string[] = [];
    const slow: Callback = {
      name: "slow",
      async onStepEnd() {
        log.push("slow start");
        await tick();
        log.push("slow end");
      },
    };
    const fast: Callback = { name: "fast", onStepEnd: () => void log.push("fast") };
    const none: Callback = { name: "none", onEpochEnd: () => void log.push("none") };
    const dispatcher = new CallbackDispatcher([slow, none, fast]);
    expect(await dispatcher.dispatch("onStepEnd", snap())).toBeUndefined();
    expect(log).toEqual(["slow start", "slow end", "fast"]);
  });

  it("passes frozen snapshots", async () => {
    let seen: TrainingSnapshot | undefined;
    const dispatcher = new CallbackDispatcher([
      {
        onFitStart: (s) => {
          seen = s;
        },
      },
    ]);
    const metrics = { loss: 2 };
    await dispatcher.dispatch("onFitStart", createSnapshot({ ...snap(), metrics }));
    metrics.loss = 3;
    expect(seen?.metrics.loss).toBe(2);
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.isFrozen(seen?.metrics)).toBe(true);
  });

  it("collects stop requests: every callback still runs, the first reason wins, all are kept", async () => {
    const log: string[] = [];
    const dispatcher = new CallbackDispatcher([
      { name: "a", onEpochEnd: () => stopRequest("first") },
      { name: "b", onEpochEnd: () => void log.push("b ran") },
      { name: "c", onEpochEnd: async () => stopRequest("second") },
    ]);
    expect(dispatcher.stopRequest).toBeUndefined();
    const result = await dispatcher.dispatch("onEpochEnd", snap());
    expect(result).toEqual({ stop: true, reason: "a: first" });
    expect(log).toEqual(["b ran"]);
    expect(dispatcher.stopRequest).toEqual({ stop: true, reason: "a: first" });
    expect(dispatcher.stops).toEqual([
      { callback: "a", hook: "onEpochEnd", reason: "first" },
      { callback: "c", hook: "onEpochEnd", reason: "second" },
    ]);
  });

  it("wraps a callback's exception with its name and hook, and stops the dispatch there", async () => {
    const log: string[] = [];
    const cause = new Error("boom");
    const dispatcher = new CallbackDispatcher([
      {
        name: "bad",
        onStepEnd: async () => {
          throw cause;
        },
      },
      { name: "after", onStepEnd: () => void log.push("after") },
    ]);
    const error = await dispatcher.dispatch("onStepEnd", snap()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as CallbackError).message).toBe("callback bad failed in onStepEnd: boom");
    expect((error as CallbackError).callback).toBe("bad");
    expect((error as CallbackError).cause).toBe(cause);
    expect(log).toEqual([]);
  });

  it("names class callbacks by class and anonymous ones by position", async () => {
    class Exploding implements Callback {
      onFitEnd(): void {
        throw new Error("x");
      }
    }
    await expect(new CallbackDispatcher([new Exploding()]).dispatch("onFitEnd", snap())).rejects.toThrow(
      "callback Exploding failed in onFitEnd: x",
    );
    const anonymous: Callback = {
      onFitEnd: () => {
        throw new Error("y");
      },
    };
    await expect(new CallbackDispatcher([{}, anonymous]).dispatch("onFitEnd", snap())).rejects.toThrow(
      "callback callbacks[1] failed in onFitEnd: y",
    );
  });

  it("rejects a hook result that is not a stop request", async () => {
    const odd = { name: "odd", onStepEnd: () => ({ stop: "yes" }) } as unknown as Callback;
    await expect(new CallbackDispatcher([odd]).dispatch("onStepEnd", snap())).rejects.toThrow(
      /callback odd failed in onStepEnd: returned \{"stop":"yes"\}/,
    );
  });

  it("calls onException on every callback even when one throws, then throws the first failure", async () => {
    const seen: unknown[] = [];
    const original = new Error("training failed");
    const dispatcher = new CallbackDispatcher([
      {
        name: "first",
        onException: () => {
          throw new Error("cleanup failed");
        },
      },
      { name: "second", onException: (_s, e) => void seen.push(e) },
    ]);
    await expect(dispatcher.dispatchException(snap(), original)).rejects.toThrow(
      "callback first failed in onException: cleanup failed",
    );
    expect(seen).toEqual([original]);
  });

  it("round-trips states through JSON by stateKey", async () => {
    const stopper = new EarlyStopping({ monitor: "loss", patience: 3 });
    const a = new Counter("a");
    const dispatcher = new CallbackDispatcher([a, { name: "stateless" }, stopper]);
    await dispatcher.dispatch("onStepEnd", snap());
    await dispatcher.dispatch("onStepEnd", snap());
    await dispatcher.dispatch("onEpochEnd", snap({ metrics: { loss: 0.5 } }));
    await dispatcher.dispatch("onEpochEnd", snap({ metrics: { loss: 0.7 } }));
    const saved = JSON.parse(JSON.stringify(dispatcher.stateDicts())) as Record<string, unknown>;
    expect(saved).toEqual({
      a: { count: 2 },
      "EarlyStopping[loss,min]": { best: 0.5, wait: 1, stoppedEpoch: null },
    });

    const a2 = new Counter("a");
    const stopper2 = new EarlyStopping({ monitor: "loss", patience: 3 });
    new CallbackDispatcher([a2, stopper2]).loadStateDicts(saved);
    expect(a2.count).toBe(2);
    expect(stopper2.best).toBe(0.5);
    expect(stopper2.wait).toBe(1);
  });

  it("refuses duplicate state keys, naming both callbacks", () => {
    expect(() => new CallbackDispatcher([new Counter("k"), { name: "x" }, new Counter("k")])).toThrow(
      'callbacks Counter(k) and Counter(k) both use stateKey "k"',
    );
    expect(() => new CallbackDispatcher([new EarlyStopping(), new EarlyStopping()])).toThrow(
      'callbacks EarlyStopping and EarlyStopping both use stateKey "EarlyStopping[val_loss,min]"',
    );
    expect(
      () => new CallbackDispatcher([new EarlyStopping(), new EarlyStopping({ stateKey: "second" })]),
    ).not.toThrow();
  });

  it("refuses incomplete state declarations", () => {
    expect(() => new CallbackDispatcher([{ name: "half", stateDict: () => 1 }])).toThrow(
      "callback half has state methods but no stateKey",
    );
    expect(() => new CallbackDispatcher([{ name: "keyOnly", stateKey: "k", stateDict: () => 1 }])).toThrow(
      'callback keyOnly has stateKey "k" but not both stateDict and loadStateDict',
    );
  });

  it("refuses state for an unknown key unless strict is false; a missing key keeps the fresh state", () => {
    const a = new Counter("a");
    const dispatcher = new CallbackDispatcher([a]);
    expect(() => dispatcher.loadStateDicts({ a: { count: 4 }, gone: {} })).toThrow(
      /state for "gone" but no callback has that stateKey \(callbacks with state: "a"\)/,
    );
    expect(a.count).toBe(0);
    dispatcher.loadStateDicts({ a: { count: 4 }, gone: {} }, { strict: false });
    expect(a.count).toBe(4);
    const b = new Counter("b");
    new CallbackDispatcher([b]).loadStateDicts({});
    expect(b.count).toBe(0);
  });

  it("wraps a malformed state with the callback's name, keeping its code", () => {
    const dispatcher = new CallbackDispatcher([new EarlyStopping()]);
    let error: unknown;
    try {
      dispatcher.loadStateDicts({ "EarlyStopping[val_loss,min]": { best: 1, wait: -1, stoppedEpoch: null } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as CryptomlError).code).toBe("USAGE");
    expect((error as Error).message).toBe(
      "callback EarlyStopping failed in loadStateDict: EarlyStopping state.wait=-1 must be an integer >= 0",
    );
  });
});
