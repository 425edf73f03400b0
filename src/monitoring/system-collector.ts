/**
 * Host and process gauges: memory, network and load average read when a scraper asks; CPU busy share and
 * event-loop delay over the last complete sampling window of an internal timer (system-window.ts), so two
 * scrapers of one process see the same values; disk and GPUs through nvidia-smi fetched in the background.
 * A scrape during training waits for the training loop to yield at every I/O round trip, so a scrape
 * does none: /proc files are read synchronously (tiny, in memory), while statfs and nvidia-smi run in the
 * background and a scrape publishes their last result. Every source and the window timer are injectable,
 * so tests drive it with fixed /proc contents, a fake clock and manual window ticks.
 */
import { execFile } from "node:child_process";
import { constants, readFileSync } from "node:fs";
import { access, statfs } from "node:fs/promises";
import os from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import type { MetricName } from "./catalog.js";
import type { CryptomlMetrics } from "./registry.js";
import {
  type CpuTimes,
  DEFAULT_WINDOW_MS,
  defaultLoopDelay,
  type LoopDelayHistogram,
  type SystemWindowValues,
  startSystemWindow,
  type WindowScheduler,
} from "./system-window.js";

export type { CpuTimes, LoopDelayHistogram, WindowScheduler } from "./system-window.js";

export interface DiskUsage {
  readonly freeBytes: number;
  readonly sizeBytes: number;
  readonly usedRatio: number;
}

export interface GpuSample {
  readonly index: string;
  readonly utilizationRatio: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
}

/** Where the collector reads from; every member has a real default. */
export interface SystemSources {
  /** Per-core CPU times, read at each window boundary. Default os.cpus(). */
  cpuTimes(): readonly CpuTimes[];
  /** An enabled event-loop delay histogram. Default perf_hooks.monitorEventLoopDelay({ resolution: 20 }). */
  loopDelay(): LoopDelayHistogram;
  /** /proc/meminfo, or undefined where there is none. */
  readMeminfo(): Promise<string | undefined>;
  /** /proc/net/dev, or undefined where there is none (non-Linux). */
  readNetDev(): Promise<string | undefined>;
  /** Free and total bytes without /proc/meminfo. Default os.freemem/os.totalmem. */
  memory(): { free: number; total: number };
  /** File-system usage of `path` (its nearest existing ancestor); undefined when unreadable. */
  disk(path: string): Promise<DiskUsage | undefined>;
  loadAverage(): readonly number[];
  /** `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` output, or undefined without nvidia-smi. */
  queryGpus(): Promise<string | undefined>;
}

export interface SystemCollectorOptions {
  readonly metrics: CryptomlMetrics;
  /** Directories whose file systems to report (runs, data). Default none. */
  readonly diskPaths?: readonly string[];
  readonly sources?: Partial<SystemSources>;
  /**
   * Length of the CPU and event-loop windows: a scrape reports the last complete one, whoever scrapes
   * and however often. Default 5000 ms.
   */
  readonly windowMs?: number;
  /** Runs the window timer. Default an unref()'ed setInterval (stop() clears it). */
  readonly schedule?: WindowScheduler;
  /** Milliseconds clock for the GPU cache. Default Date.now. */
  readonly clock?: () => number;
  /** Oldest GPU sample still served; a newer one is fetched in the background. Default 5000 ms. */
  readonly gpuRefreshMs?: number;
  /** nvidia-smi time limit. Default 3000 ms. */
  readonly gpuTimeoutMs?: number;
  /** Called with a source's error (the scrape still succeeds without that source's series). */
  readonly onError?: (error: unknown) => void;
}

export interface SystemCollector {
  /** Stops the window timer and the event-loop monitor, and detaches from the registry. */
  stop(): void;
  /** Resolves when the background GPU and disk queries in flight (if any) have ended; for tests and shutdown. */
  settled(): Promise<void>;
}

const SYSTEM_METRICS: readonly MetricName[] = [
  "cryptoml_system_cpu_utilization_ratio",
  "cryptoml_system_memory_used_bytes",
  "cryptoml_system_memory_total_bytes",
  "cryptoml_system_memory_utilization_ratio",
  "cryptoml_system_disk_free_bytes",
  "cryptoml_system_disk_size_bytes",
  "cryptoml_system_disk_utilization_ratio",
  "cryptoml_system_network_received_bytes_total",
  "cryptoml_system_network_transmitted_bytes_total",
  "cryptoml_system_load_average",
  "cryptoml_system_event_loop_lag_seconds",
  "cryptoml_system_gpu_utilization_ratio",
  "cryptoml_system_gpu_memory_used_bytes",
  "cryptoml_system_gpu_memory_total_bytes",
];

const MIB = 1024 * 1024;

/**
 * Attaches the system sampler to `metrics`: CPU and event-loop windows every `windowMs` (default 5000),
 * everything else when a scraper asks, without waiting on I/O.
 */
export function startSystemCollector(options: SystemCollectorOptions): SystemCollector {
  const { metrics } = options;
  const sources: SystemSources = { ...defaultSources(options.gpuTimeoutMs ?? 3000), ...options.sources };
  const clock = options.clock ?? Date.now;
  const onError = options.onError ?? (() => {});
  const window = startSystemWindow({
    cpuTimes: () => sources.cpuTimes(),
    loopDelay: () => sources.loopDelay(),
    intervalMs: options.windowMs ?? DEFAULT_WINDOW_MS,
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
  });
  const gpus = new BackgroundSample(
    async () => {
      const text = await sources.queryGpus();
      return text === undefined ? undefined : parseNvidiaSmi(text);
    },
    clock,
    options.gpuRefreshMs ?? 5000,
    onError,
  );
  const diskPaths = options.diskPaths ?? [];
  // statfs costs a thread-pool round trip, which waits for the training loop to yield; a scrape
  // publishes the previous one's result (at most one scrape interval old) rather than wait.
  const disks = new BackgroundSample(
    () => Promise.all(diskPaths.map(async (path) => [path, await sources.disk(path)] as const)),
    clock,
    0,
    onError,
  );

  const sample = async (): Promise<void> => {
    publishWindow(metrics, window.read());
    const load = sources.loadAverage();
    const loadGauge = metrics.gauge("cryptoml_system_load_average");
    for (const [i, period] of ["1m", "5m", "15m"].entries()) loadGauge.set({ period }, load[i] ?? 0);

    publishGpus(metrics, gpus.read() ?? []);
    publishDisks(metrics, disks.read() ?? []);
    const settle = (what: Promise<void>) => what.catch(onError);
    await Promise.all([settle(sampleMemory(metrics, sources)), settle(sampleNetwork(metrics, sources))]);
  };
  const detach = metrics.onCollect(SYSTEM_METRICS, sample);
  return {
    stop() {
      window.stop();
      detach();
    },
    settled: async () => {
      await Promise.all([gpus.settled(), disks.settled()]);
    },
  };
}

function publishWindow(metrics: CryptomlMetrics, values: SystemWindowValues): void {
  metrics.gauge("cryptoml_system_cpu_utilization_ratio").set(values.cpuUtilization);
  const lag = metrics.gauge("cryptoml_system_event_loop_lag_seconds");
  lag.set({ quantile: "0.5" }, values.loopLag.p50);
  lag.set({ quantile: "0.99" }, values.loopLag.p99);
  lag.set({ quantile: "1" }, values.loopLag.max);
}

async function sampleMemory(metrics: CryptomlMetrics, sources: SystemSources): Promise<void> {
  const meminfo = await sources.readMeminfo();
  const parsed = meminfo === undefined ? undefined : parseMeminfo(meminfo);
  const { free, total } = parsed ?? sources.memory();
  const used = Math.max(0, total - free);
  metrics.gauge("cryptoml_system_memory_total_bytes").set(total);
  metrics.gauge("cryptoml_system_memory_used_bytes").set(used);
  metrics.gauge("cryptoml_system_memory_utilization_ratio").set(total > 0 ? used / total : 0);
}

function publishDisks(
  metrics: CryptomlMetrics,
  usages: readonly (readonly [string, DiskUsage | undefined])[],
): void {
  const free = metrics.gauge("cryptoml_system_disk_free_bytes");
  const size = metrics.gauge("cryptoml_system_disk_size_bytes");
  const ratio = metrics.gauge("cryptoml_system_disk_utilization_ratio");
  for (const gauge of [free, size, ratio]) gauge.reset();
  for (const [path, usage] of usages) {
    if (usage === undefined) continue;
    free.set({ path }, usage.freeBytes);
    size.set({ path }, usage.sizeBytes);
    ratio.set({ path }, usage.usedRatio);
  }
}

function publishGpus(metrics: CryptomlMetrics, samples: readonly GpuSample[]): void {
  const util = metrics.gauge("cryptoml_system_gpu_utilization_ratio");
  const used = metrics.gauge("cryptoml_system_gpu_memory_used_bytes");
  const total = metrics.gauge("cryptoml_system_gpu_memory_total_bytes");
  for (const gauge of [util, used, total]) gauge.reset();
  for (const gpu of samples) {
    util.set({ gpu: gpu.index }, gpu.utilizationRatio);
    used.set({ gpu: gpu.index }, gpu.memoryUsedBytes);
    total.set({ gpu: gpu.index }, gpu.memoryTotalBytes);
  }
}

async function sampleNetwork(metrics: CryptomlMetrics, sources: SystemSources): Promise<void> {
  const text = await sources.readNetDev();
  const received = metrics.counter("cryptoml_system_network_received_bytes_total");
  const transmitted = metrics.counter("cryptoml_system_network_transmitted_bytes_total");
  // The kernel's counters are absolute; reset and re-add so vanished interfaces disappear too.
  received.reset();
  transmitted.reset();
  if (text === undefined) return;
  for (const row of parseNetDev(text)) {
    received.inc({ interface: row.interface }, row.receivedBytes);
    transmitted.inc({ interface: row.interface }, row.transmittedBytes);
  }
}

/** MemTotal and MemAvailable of /proc/meminfo in bytes; undefined when either is missing (old kernels). */
export function parseMeminfo(text: string): { free: number; total: number } | undefined {
  const kib = (key: string): number | undefined => {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, "m").exec(text);
    return match === null ? undefined : Number(match[1]) * 1024;
  };
  const total = kib("MemTotal");
  const available = kib("MemAvailable");
  return total === undefined || available === undefined ? undefined : { free: available, total };
}

/** Received and transmitted bytes per interface of /proc/net/dev, loopback left out. */
export function parseNetDev(
  text: string,
): { interface: string; receivedBytes: number; transmittedBytes: number }[] {
  const rows: { interface: string; receivedBytes: number; transmittedBytes: number }[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    const rx = fields[0];
    const tx = fields[8];
    if (name === "lo" || name === "" || rx === undefined || tx === undefined) continue;
    if (!Number.isFinite(rx) || !Number.isFinite(tx)) continue;
    rows.push({ interface: name, receivedBytes: rx, transmittedBytes: tx });
  }
  return rows;
}

/** Rows of `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(text: string): GpuSample[] {
  const gpus: GpuSample[] = [];
  for (const line of text.split("\n")) {
    const [index, util, used, total] = line.split(",").map((f) => f.trim());
    if (index === undefined || index === "" || total === undefined) continue;
    const numbers = [util, used, total].map(Number);
    // "[N/A]" fields (some GPUs do not report utilisation) leave that series out rather than lie.
    if (numbers.some((n) => !Number.isFinite(n))) continue;
    const [u, m, t] = numbers as [number, number, number];
    gpus.push({ index, utilizationRatio: u / 100, memoryUsedBytes: m * MIB, memoryTotalBytes: t * MIB });
  }
  return gpus;
}

/**
 * The last result of a slow source (nvidia-smi, statfs). A scrape never waits for it: it reads what is
 * cached and, when that is older than `refreshMs`, starts one fetch in the background for the next
 * scrape. A fetch that resolves undefined means the source is absent, and it is not asked again.
 */
class BackgroundSample<T> {
  #value: T | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #absent = false;
  readonly #fetch: () => Promise<T | undefined>;
  readonly #clock: () => number;
  readonly #refreshMs: number;
  readonly #onError: (error: unknown) => void;

  constructor(
    fetch: () => Promise<T | undefined>,
    clock: () => number,
    refreshMs: number,
    onError: (error: unknown) => void,
  ) {
    this.#fetch = fetch;
    this.#clock = clock;
    this.#refreshMs = refreshMs;
    this.#onError = onError;
    this.#refresh();
  }

  /** The cached value (undefined before the first fetch, when absent, or after a failure). */
  read(): T | undefined {
    if (this.#clock() - this.#fetchedAt >= this.#refreshMs) this.#refresh();
    return this.#value;
  }

  settled(): Promise<void> {
    return this.#inFlight ?? Promise.resolve();
  }

  #refresh(): void {
    if (this.#absent || this.#inFlight !== undefined) return;
    this.#fetchedAt = this.#clock();
    this.#inFlight = Promise.resolve()
      .then(this.#fetch)
      .then((value) => {
        if (value === undefined) this.#absent = true;
        this.#value = value;
      })
      .catch((error: unknown) => {
        this.#value = undefined;
        this.#onError(error);
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
  }
}

/**
 * A /proc file, read synchronously on purpose: it is a few KB generated in memory, while an async
 * readFile takes four thread-pool round trips, each waiting for the training loop to yield (a scrape
 * during training then took ~400 ms instead of a few).
 */
async function readProcFile(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Usage of the file system holding `path`, walking up to an existing ancestor (the runs dir may not exist yet). */
async function diskUsage(path: string): Promise<DiskUsage | undefined> {
  let at = resolve(path);
  for (;;) {
    try {
      const s = await statfs(at);
      const used = s.blocks - s.bfree;
      // As df computes Use%: what non-root users can still write is bavail, not bfree.
      const usable = used + s.bavail;
      return {
        freeBytes: s.bavail * s.bsize,
        sizeBytes: s.blocks * s.bsize,
        usedRatio: usable > 0 ? used / usable : 0,
      };
    } catch {
      const parent = dirname(at);
      if (parent === at) return undefined;
      at = parent;
    }
  }
}

/** The nvidia-smi executable on PATH, or undefined. */
async function findOnPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

function defaultSources(gpuTimeoutMs: number): SystemSources {
  let nvidiaSmi: Promise<string | undefined> | undefined;
  return {
    cpuTimes: () => os.cpus().map((c) => c.times),
    loopDelay: defaultLoopDelay,
    readMeminfo: () => readProcFile("/proc/meminfo"),
    readNetDev: () => readProcFile("/proc/net/dev"),
    memory: () => ({ free: os.freemem(), total: os.totalmem() }),
    disk: diskUsage,
    loadAverage: () => os.loadavg(),
    async queryGpus() {
      nvidiaSmi ??= findOnPath(process.platform === "win32" ? "nvidia-smi.exe" : "nvidia-smi");
      const path = await nvidiaSmi;
      if (path === undefined) return undefined;
      const args = [
        "--query-gpu=index,utilization.gpu,memory.used,memory.total",
        "--format=csv,noheader,nounits",
      ];
      return new Promise((done, fail) => {
        execFile(path, args, { timeout: gpuTimeoutMs, windowsHide: true }, (error, stdout) =>
          error === null ? done(stdout) : fail(new Error(`nvidia-smi failed: ${error.message}`)),
        );
      });
    },
  };
}
