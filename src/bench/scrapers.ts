/**
 * The scrapers of bench:monitoring, each in its own process as in production: a real Prometheus (Debian's
 * package, when installed) or a small Node loop. Each reports the latency of every scrape it made.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../core/free-port.js";

export interface Scraper {
  readonly name: string;
  /** Stops scraping and returns every scrape's latency in milliseconds. */
  stop(): Promise<number[]>;
}

export function hasPrometheus(): boolean {
  return spawnSync("prometheus", ["--version"]).status === 0;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** A Node process that GETs `url` every `everyMs` and prints the latencies as JSON on SIGTERM. */
export function startNodeScraper(url: string, everyMs: number): Scraper {
  const child = spawn(process.execPath, ["--input-type=module", "-e", NODE_SCRAPER, url, String(everyMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  return {
    name: "a Node process",
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
      return JSON.parse(out.trim() || "[]") as number[];
    },
  };
}

const NODE_SCRAPER = `
const [url, every] = process.argv.slice(-2);
const latencies = [];
const timer = setInterval(async () => {
  const started = performance.now();
  const res = await fetch(url);
  await res.text();
  if (res.ok) latencies.push(performance.now() - started);
}, Number(every));
process.on("SIGTERM", () => { clearInterval(timer); process.stdout.write(JSON.stringify(latencies)); process.exit(0); });
`;

/**
 * A real Prometheus scraping `target` (host:port) every `everyMs`, started and ready before this returns;
 * the latencies are its own `scrape_duration_seconds` samples.
 */
export async function startPrometheusScraper(target: string, everyMs: number): Promise<Scraper> {
  const dir = await mkdtemp(join(tmpdir(), "cryptoml-bench-prometheus-"));
  const interval = `${everyMs}ms`;
  await writeFile(
    join(dir, "prometheus.yml"),
    `global: { scrape_interval: ${interval}, scrape_timeout: ${interval}, evaluation_interval: 1m }\n` +
      `scrape_configs:\n  - job_name: bench\n    static_configs: [{ targets: ["${target}"] }]\n`,
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=error",
    ],
    { stdio: "ignore" },
  );
  const stop = async (): Promise<void> => {
    child.kill("SIGTERM");
    await exited(child);
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    const ready = await fetch(`${base}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (attempt > 300 || child.exitCode !== null) {
      await stop();
      throw new Error("prometheus did not become ready within 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name: "Prometheus",
    async stop() {
      try {
        const query = encodeURIComponent('scrape_duration_seconds{job="bench"}[1h]');
        const answer = (await (await fetch(`${base}/api/v1/query?query=${query}`)).json()) as {
          data?: { result?: { values: [number, string][] }[] };
        };
        return (answer.data?.result?.[0]?.values ?? []).map(([, v]) => Number(v) * 1000);
      } finally {
        await stop();
      }
    },
  };
}

/**
 * A separate process serving `body` (a recorded /metrics) over HTTP: what the plain rounds' scraper
 * scrapes, so both kinds of round carry the same scraping process on the machine and differ only in
 * whether the training process serves the scrape itself.
 */
export async function startDecoy(body: string): Promise<{ readonly host: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", DECOY], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  child.stdin?.end(body);
  const host = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once("exit", (code) => reject(new Error(`the decoy exporter exited (${code})`)));
  });
  return {
    host,
    async close() {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

const DECOY = `
import { createServer } from "node:http";
let body = "";
process.stdin.on("data", (c) => { body += c; });
process.stdin.on("end", () => {
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(body);
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write("127.0.0.1:" + server.address().port + "\\n"));
});
process.on("SIGTERM", () => process.exit(0));
`;
