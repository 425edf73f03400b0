import { afterEach, describe, expect, it, vi } from "vitest";
import { type CryptomlMetrics, createMetricsRegistry } from "./registry.js";
import {
  type CpuTimes,
  type LoopDelayHistogram,
  parseMeminfo,
  parseNetDev,
  parseNvidiaSmi,
  type SystemCollector,
  type SystemSources,
  startSystemCollector,
} from "./system-collector.js";
import { startSystemWindow } from "./system-window.js";

const MEMINFO = `MemTotal:       16000000 kB
MemFree:         1000000 kB
MemAvailable:    4000000 kB
Buffers:          200000 kB
`;

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0: 123456    100    0    0    0     0          0         0    654321     90    0    0    0     0       0          0
`;

const cores = (busy: number, idle: number): CpuTimes[] => [
  { user: busy, nice: 0, sys: 0, idle, irq: 0 },
  { user: busy, nice: 0, sys: 0, idle, irq: 0 },
];

/** A histogram whose recorded delays (ns) the test sets; reset() empties it as perf_hooks' does. */
class FakeLoopDelay implements LoopDelayHistogram {
  delays: number[] = [];
  disabled = false;
  percentile(p: number): number {
    const sorted = [...this.delays].sort((a, b) => a - b);
    return sorted.length === 0 ? Number.NaN : (sorted[Math.ceil((p / 100) * sorted.length) - 1] ?? 0);
  }
  get max(): number {
    return this.delays.length === 0 ? 0 : Math.max(...this.delays);
  }
  reset(): void {
    this.delays = [];
  }
  disable(): void {
    this.disabled = true;
  }
}

/** A window timer the test advances by hand. */
function manualWindows() {
  const state = { tick: undefined as (() => void) | undefined, intervalMs: 0, cancelled: false };
  return {
    state,
    schedule: (tick: () => void, intervalMs: number) => {
      state.tick = tick;
      state.intervalMs = intervalMs;
      return () => {
        state.cancelled = true;
      };
    },
    closeWindow: () => state.tick?.(),
  };
}

const collectors: SystemCollector[] = [];
afterEach(() => {
  for (const c of collectors.splice(0)) c.stop();
});

function setup(sources: Partial<SystemSources>, extra: { clock?: () => number; diskPaths?: string[] } = {}) {
  const metrics = createMetricsRegistry({ command: "test", version: "0", defaultMetrics: false });
  const errors: unknown[] = [];
  const windows = manualWindows();
  const loop = new FakeLoopDelay();
  const collector = startSystemCollector({
    metrics,
    schedule: windows.schedule,
    sources: {
      loopDelay: () => loop,
      readMeminfo: async () => MEMINFO,
      readNetDev: async () => NET_DEV,
      loadAverage: () => [0.5, 1.5, 2.5],
      disk: async () => undefined,
      queryGpus: async () => undefined,
      ...sources,
    },
    onError: (e) => errors.push(e),
    ...extra,
  });
  collectors.push(collector);
  return { metrics, collector, errors, windows, loop };
}

/** One scrape's samples of `name`, keyed by label values ("-" without labels). */
async function values(metrics: CryptomlMetrics, name: string): Promise<Record<string, number>> {
  const { body } = await metrics.exposition();
  const found: Record<string, number> = {};
  for (const match of body.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, "gm"))) {
    const labels = [...(match[1] ?? "").matchAll(/="([^"]*)"/g)].map((m) => m[1]).join(",");
    found[labels || "-"] = Number(match[2]);
  }
  return found;
}

describe("parsers", () => {
  it("reads MemTotal and MemAvailable in bytes", () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ total: 16000000 * 1024, free: 4000000 * 1024 });
    expect(parseMeminfo("MemTotal: 10 kB\nMemFree: 5 kB\n")).toBeUndefined();
  });

  it("reads /proc/net/dev without the loopback", () => {
    expect(parseNetDev(NET_DEV)).toEqual([
      { interface: "eth0", receivedBytes: 123456, transmittedBytes: 654321 },
    ]);
  });

  it("reads nvidia-smi CSV and skips rows with [N/A]", () => {
    expect(parseNvidiaSmi("0, 37, 1024, 81920\n1, [N/A], 10, 20\n")).toEqual([
      {
        index: "0",
        utilizationRatio: 0.37,
        memoryUsedBytes: 1024 * 1024 * 1024,
        memoryTotalBytes: 81920 * 1024 * 1024,
      },
    ]);
  });
});

describe("startSystemCollector", () => {
  it("reports CPU busy share over the last complete window, the same for every scrape", async () => {
    let times = cores(100, 100);
    const { metrics, windows } = setup({ cpuTimes: () => times });
    expect(windows.state.intervalMs).toBe(5000);
    // Before the first window closes: the share since the collector started.
    times = cores(110, 130); // 20 busy, 60 idle over both cores
    expect(await values(metrics, "cryptoml_system_cpu_utilization_ratio")).toEqual({ "-": 0.25 });
    times = cores(130, 110); // 60 busy, 20 idle since the start
    windows.closeWindow();
    times = cores(130, 200); // idle after the window: not seen until the next window closes
    // Two scrapers in a row (Prometheus, then `cryptoml monitor`) both read the closed window.
    expect(await values(metrics, "cryptoml_system_cpu_utilization_ratio")).toEqual({ "-": 0.75 });
    expect(await values(metrics, "cryptoml_system_cpu_utilization_ratio")).toEqual({ "-": 0.75 });
    windows.closeWindow();
    expect(await values(metrics, "cryptoml_system_cpu_utilization_ratio")).toEqual({ "-": 0 });
  });

  it("keeps an event-loop lag spike for every scraper until the next window closes", async () => {
    const { metrics, windows, loop } = setup({ cpuTimes: () => cores(0, 0) });
    loop.delays = [1e6, 2e6, 3e6, 400e6]; // one 400 ms stall among 1-3 ms delays
    windows.closeWindow();
    const lag = { "0.5": 0.002, "0.99": 0.4, "1": 0.4 };
    expect(await values(metrics, "cryptoml_system_event_loop_lag_seconds")).toEqual(lag);
    // A scrape no longer resets the histogram, so a second scraper still sees the spike.
    expect(await values(metrics, "cryptoml_system_event_loop_lag_seconds")).toEqual(lag);
    loop.delays.push(5e6);
    expect(await values(metrics, "cryptoml_system_event_loop_lag_seconds")).toEqual(lag);
    windows.closeWindow(); // the window closed the histogram: the next starts empty
    expect(loop.delays).toEqual([]);
    expect(await values(metrics, "cryptoml_system_event_loop_lag_seconds")).toEqual({
      "0.5": 0.005,
      "0.99": 0.005,
      "1": 0.005,
    });
    windows.closeWindow(); // a window without samples reports no delay, not NaN
    expect(await values(metrics, "cryptoml_system_event_loop_lag_seconds")).toEqual({
      "0.5": 0,
      "0.99": 0,
      "1": 0,
    });
  });

  it("stops the window timer and the histogram on stop()", async () => {
    const { collector, windows, loop } = setup({ cpuTimes: () => cores(0, 0) });
    collector.stop();
    expect(windows.state.cancelled).toBe(true);
    expect(loop.disabled).toBe(true);
  });

  it("closes windows on its own unref()'ed interval by default, until stopped", () => {
    vi.useFakeTimers();
    try {
      let times = cores(0, 0);
      const window = startSystemWindow({ cpuTimes: () => times, loopDelay: () => new FakeLoopDelay() });
      times = cores(10, 10);
      vi.advanceTimersByTime(4999);
      times = cores(40, 20); // the window closes here: 40 busy, 20 idle per core
      vi.advanceTimersByTime(1);
      times = cores(40, 1000);
      expect(window.read().cpuUtilization).toBeCloseTo(2 / 3);
      window.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("takes the window length from windowMs", () => {
    const windows = manualWindows();
    const metrics = createMetricsRegistry({ command: "test", version: "0", defaultMetrics: false });
    collectors.push(
      startSystemCollector({
        metrics,
        windowMs: 1000,
        schedule: windows.schedule,
        sources: { cpuTimes: () => cores(0, 0), loopDelay: () => new FakeLoopDelay() },
      }),
    );
    expect(windows.state.intervalMs).toBe(1000);
  });

  it("reports memory from MemAvailable, and from os free memory without /proc/meminfo", async () => {
    const { metrics } = setup({ cpuTimes: () => cores(0, 0) });
    expect(await values(metrics, "cryptoml_system_memory_used_bytes")).toEqual({ "-": 12000000 * 1024 });
    expect(await values(metrics, "cryptoml_system_memory_utilization_ratio")).toEqual({ "-": 0.75 });

    const other = setup({
      cpuTimes: () => cores(0, 0),
      readMeminfo: async () => undefined,
      memory: () => ({ free: 1, total: 4 }),
    });
    expect(await values(other.metrics, "cryptoml_system_memory_total_bytes")).toEqual({ "-": 4 });
    expect(await values(other.metrics, "cryptoml_system_memory_utilization_ratio")).toEqual({ "-": 0.75 });
  });

  it("reports disks per path, network per interface, and the load averages", async () => {
    let free = 25;
    const { metrics, collector } = setup(
      {
        cpuTimes: () => cores(0, 0),
        disk: async (path) =>
          path === "/runs" ? { freeBytes: free, sizeBytes: 100, usedRatio: 0.75 } : undefined,
      },
      { diskPaths: ["/runs", "/gone"] },
    );
    await collector.settled();
    const { body } = await metrics.exposition();
    expect(body).toContain('cryptoml_system_disk_free_bytes{path="/runs"} 25');
    expect(body).toContain('cryptoml_system_disk_utilization_ratio{path="/runs"} 0.75');
    expect(body).not.toContain('path="/gone"');
    expect(body).toContain('cryptoml_system_network_received_bytes_total{interface="eth0"} 123456');
    expect(body).toContain('cryptoml_system_network_transmitted_bytes_total{interface="eth0"} 654321');
    expect(body).not.toContain('interface="lo"');
    expect(body).toContain('cryptoml_system_load_average{period="15m"} 2.5');
    expect(body).toMatch(/cryptoml_system_event_loop_lag_seconds\{quantile="0.99"\} \d/);
    // Disks are read in the background: a scrape publishes what the previous one fetched.
    await collector.settled();
    free = 10;
    // A second scrape re-reads absolute counters instead of adding them up.
    const again = await metrics.exposition();
    expect(again.body).toContain('cryptoml_system_network_received_bytes_total{interface="eth0"} 123456');
    expect(again.body).toContain('cryptoml_system_disk_free_bytes{path="/runs"} 25');
    await collector.settled();
    expect((await metrics.exposition()).body).toContain('cryptoml_system_disk_free_bytes{path="/runs"} 10');
  });

  it("serves the cached nvidia-smi sample and refreshes it in the background when stale", async () => {
    let now = 0;
    let calls = 0;
    let utilization = 10;
    const { metrics, collector } = setup(
      {
        cpuTimes: () => cores(0, 0),
        queryGpus: async () => {
          calls += 1;
          return `0, ${utilization}, 100, 200\n`;
        },
      },
      { clock: () => now },
    );
    await collector.settled();
    expect(calls).toBe(1);
    utilization = 90;
    now = 1000;
    expect(await values(metrics, "cryptoml_system_gpu_utilization_ratio")).toEqual({ "0": 0.1 });
    expect(calls).toBe(1);
    now = 6000; // older than the 5 s refresh: this scrape serves the old value and starts a query
    expect(await values(metrics, "cryptoml_system_gpu_utilization_ratio")).toEqual({ "0": 0.1 });
    await collector.settled();
    expect(calls).toBe(2);
    expect(await values(metrics, "cryptoml_system_gpu_utilization_ratio")).toEqual({ "0": 0.9 });
    expect(await values(metrics, "cryptoml_system_gpu_memory_total_bytes")).toEqual({
      "0": 200 * 1024 * 1024,
    });
  });

  it("has no GPU series and stops asking when nvidia-smi is absent", async () => {
    let now = 0;
    let calls = 0;
    const { metrics, collector } = setup(
      {
        cpuTimes: () => cores(0, 0),
        queryGpus: async () => {
          calls += 1;
          return undefined;
        },
      },
      { clock: () => now },
    );
    await collector.settled();
    now = 60_000;
    const { body } = await metrics.exposition();
    expect(body).not.toContain("cryptoml_system_gpu_utilization_ratio{");
    expect(calls).toBe(1);
  });

  it("keeps scraping when a source fails, reporting the error", async () => {
    const { metrics, errors } = setup({
      cpuTimes: () => cores(0, 0),
      readNetDev: async () => {
        throw new Error("EACCES /proc/net/dev");
      },
    });
    const { body } = await metrics.exposition();
    expect(body).toContain("cryptoml_system_memory_total_bytes 16384000000");
    expect(errors.map(String)).toEqual(["Error: EACCES /proc/net/dev"]);
  });

  it("reads the real host with the default sources", async () => {
    const metrics = createMetricsRegistry({ command: "test", version: "0", defaultMetrics: false });
    const collector = startSystemCollector({ metrics, diskPaths: [process.cwd()] });
    collectors.push(collector);
    await collector.settled();
    const { body } = await metrics.exposition();
    const total = /^cryptoml_system_memory_total_bytes (\d+)/m.exec(body);
    expect(Number(total?.[1])).toBeGreaterThan(0);
    expect(body).toMatch(/cryptoml_system_disk_size_bytes\{path="[^"]+"\} [1-9]/);
  });
});
