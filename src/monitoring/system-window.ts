/**
 * CPU busy share and event-loop delay over fixed sampling windows, measured on the collector's own timer.
 * Both are rates over an interval, and measuring them "since the previous scrape" made two scrapers of one
 * process (Prometheus and `cryptoml monitor`) each see only the slice since the other's scrape, and a lag
 * spike could vanish from both. Here a scrape only reads the last complete window, so every scraper sees
 * the same numbers however often it scrapes, and reading costs no I/O.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

/** The CPU time counters of one core (ms), as os.cpus() reports them. */
export type CpuTimes = {
  readonly user: number;
  readonly nice: number;
  readonly sys: number;
  readonly idle: number;
  readonly irq: number;
};

/** An event-loop delay histogram in nanoseconds, as perf_hooks.monitorEventLoopDelay() returns it. */
export interface LoopDelayHistogram {
  percentile(percentile: number): number;
  readonly max: number;
  reset(): void;
  disable(): void;
}

/** Event-loop delay quantiles in seconds. */
export interface LoopLag {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What one window measured. */
export interface SystemWindowValues {
  /** Host CPU busy share over the window, 0..1. */
  readonly cpuUtilization: number;
  readonly loopLag: LoopLag;
}

/** Runs `tick` every `intervalMs` until the returned function is called. */
export type WindowScheduler = (tick: () => void, intervalMs: number) => () => void;

export interface SystemWindowOptions {
  /** Per-core CPU times, read at each window boundary. */
  readonly cpuTimes: () => readonly CpuTimes[];
  /** An enabled event-loop delay histogram. Default monitorEventLoopDelay({ resolution: 20 }). */
  readonly loopDelay?: () => LoopDelayHistogram;
  /** Window length. Default 5000 ms. */
  readonly intervalMs?: number;
  /** Default: an unref()'ed setInterval, so the sampler never keeps the process alive. */
  readonly schedule?: WindowScheduler;
}

/** The sampler of CPU and event-loop windows; stop() ends its timer and its histogram. */
export interface SystemWindow {
  /**
   * The last complete window's values; before the first window closes, the values since the sampler
   * started (so the first scrape is not empty). Never resets anything: reading is free of side effects.
   */
  read(): SystemWindowValues;
  stop(): void;
}

/** Default window length of the CPU and event-loop samples. */
export const DEFAULT_WINDOW_MS = 5000;

/** Starts sampling CPU and event-loop delay every `intervalMs` (default 5000 ms). */
export function startSystemWindow(options: SystemWindowOptions): SystemWindow {
  const loop = (options.loopDelay ?? defaultLoopDelay)();
  const schedule = options.schedule ?? unrefInterval;
  let windowStart = totalCpu(options.cpuTimes());
  let last: SystemWindowValues | undefined;
  const cancel = schedule(() => {
    const now = totalCpu(options.cpuTimes());
    last = { cpuUtilization: busyShare(windowStart, now), loopLag: lagOf(loop) };
    windowStart = now;
    loop.reset();
  }, options.intervalMs ?? DEFAULT_WINDOW_MS);
  return {
    read: () =>
      last ?? {
        cpuUtilization: busyShare(windowStart, totalCpu(options.cpuTimes())),
        loopLag: lagOf(loop),
      },
    stop() {
      cancel();
      loop.disable();
    },
  };
}

/** An enabled perf_hooks event-loop delay histogram sampling every 20 ms. */
export function defaultLoopDelay(): LoopDelayHistogram {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return histogram;
}

function unrefInterval(tick: () => void, intervalMs: number): () => void {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** An empty histogram reports NaN (or a huge min); that is "no delay seen", not a number to export. */
function lagOf(loop: LoopDelayHistogram): LoopLag {
  const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
  return { p50: seconds(loop.percentile(50)), p99: seconds(loop.percentile(99)), max: seconds(loop.max) };
}

function totalCpu(cores: readonly CpuTimes[]): { busy: number; idle: number } {
  let busy = 0;
  let idle = 0;
  for (const t of cores) {
    busy += t.user + t.nice + t.sys + t.irq;
    idle += t.idle;
  }
  return { busy, idle };
}

function busyShare(from: { busy: number; idle: number }, to: { busy: number; idle: number }): number {
  const busy = to.busy - from.busy;
  const all = busy + to.idle - from.idle;
  return all > 0 ? Math.min(1, Math.max(0, busy / all)) : 0;
}
