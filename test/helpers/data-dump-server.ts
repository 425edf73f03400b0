/**
 * A local stand-in for data.binance.vision: serves a directory laid out like the data dump over real HTTP
 * (127.0.0.1, a free port), with Range requests, injectable faults (cut or stalled connections, error
 * statuses) and a log of the requests it received. Plus builders for archives made from real candles.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { zipSync } from "fflate";

export interface RecordedRequest {
  readonly method: string;
  /** URL path, e.g. `/data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-01.zip`. */
  readonly path: string;
  /** The `Range` header as sent, if any. */
  readonly range: string | undefined;
}

interface FaultRule {
  status: number;
  /** How many more requests get this status; then the file is served normally. */
  remaining: number;
  headers: Record<string, string>;
}

export class DataDumpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly cuts = new Map<string, number>();
  private readonly stalls = new Map<string, number>();
  private readonly faults = new Map<string, FaultRule>();
  /** When false the server ignores `Range` and always answers 200 with the whole file, as some proxies do. */
  rangeSupport = true;

  private constructor(
    readonly root: string,
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  /** Serves `root` (which holds `data/spot/...`) on 127.0.0.1 at a free port. */
  static async start(root: string): Promise<DataDumpServer> {
    let instance: DataDumpServer | undefined;
    const server = createServer((req, res) => instance?.handle(req, res));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    instance = new DataDumpServer(resolve(root), server, `http://127.0.0.1:${port}`);
    return instance;
  }

  /** The first request for `path` sends `bytes` bytes of its body, then the connection is destroyed. */
  cutAfter(path: string, bytes: number): void {
    this.cuts.set(path, bytes);
  }

  /** The first request for `path` sends `bytes` bytes of its body, then nothing more, never ending. */
  stallAfter(path: string, bytes: number): void {
    this.stalls.set(path, bytes);
  }

  /** Answers `path` with `status` (404, 500, 429, …) the next `times` times (default: always). */
  fail(
    path: string,
    status: number,
    options: { times?: number; headers?: Record<string, string> } = {},
  ): void {
    this.faults.set(path, {
      status,
      remaining: options.times ?? Number.POSITIVE_INFINITY,
      headers: options.headers ?? {},
    });
  }

  /** Requests whose path ends with `suffix` (e.g. a file name), optionally of one method. */
  requestsFor(suffix: string, method = "GET"): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix) && r.method === method);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const range = req.headers.range;
    this.requests.push({ method: req.method ?? "GET", path, range });
    const fault = this.faults.get(path);
    if (fault && fault.remaining > 0) {
      fault.remaining--;
      res.writeHead(fault.status, { "Content-Type": "text/plain", ...fault.headers });
      res.end(`status ${fault.status}\n`);
      return;
    }
    const file = normalize(join(this.root, path));
    if (!file.startsWith(this.root + sep) || !isFile(file)) {
      // data.binance.vision (S3) answers 404 for keys that do not exist.
      res.writeHead(404, { "Content-Type": "application/xml" });
      res.end("<Error><Code>NoSuchKey</Code></Error>");
      return;
    }
    this.serveFile(req, res, path, file, range);
  }

  private serveFile(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    file: string,
    range?: string,
  ): void {
    const body = readFileSync(file);
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    const headers: Record<string, string | number> = {
      "Accept-Ranges": "bytes",
      "Content-Type": "application/zip",
    };
    const match = range === undefined || !this.rangeSupport ? null : /^bytes=(\d+)-(\d*)$/.exec(range);
    if (match) {
      start = Number(match[1]);
      if (match[2]) end = Math.min(end, Number(match[2]));
      if (start >= body.length) {
        res.writeHead(416, { "Content-Range": `bytes */${body.length}` });
        res.end();
        return;
      }
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${body.length}`;
    }
    const slice = body.subarray(start, end + 1);
    res.writeHead(status, { ...headers, "Content-Length": slice.length });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const cut = this.cuts.get(path);
    const stall = this.stalls.get(path);
    if (cut !== undefined) {
      this.cuts.delete(path);
      // Let the client consume what was sent before the connection drops, as on a real network;
      // a reset right behind the data would discard it in the client's stream buffer.
      res.write(slice.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 100));
    } else if (stall !== undefined) {
      this.stalls.delete(path);
      res.write(slice.subarray(0, stall));
    } else {
      res.end(slice);
    }
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** `[open_time_ms, open, high, low, close, volume]`, the freqtrade/ccxt form of the bundled candles. */
export type OhlcvRow = readonly [number, number, number, number, number, number];

const BUNDLED = resolve(HERE, "..", "..", "data", "bundled", "binance-spot-5m");

/** Real 5m candles bundled with cryptoml, e.g. `loadBundledCandles("BTC_USDT")`. */
export function loadBundledCandles(pair: "BTC_USDT" | "ETH_USDT" | "ADA_USDT"): readonly OhlcvRow[] {
  let rows = bundledCache.get(pair);
  if (!rows) {
    rows = JSON.parse(
      gunzipSync(readFileSync(join(BUNDLED, `${pair}-5m.json.gz`))).toString("utf8"),
    ) as OhlcvRow[];
    bundledCache.set(pair, rows);
  }
  return rows;
}
const bundledCache = new Map<string, readonly OhlcvRow[]>();

/** The rows whose open time falls in the UTC month `YYYY-MM` (or day `YYYY-MM-DD`). */
export function rowsIn(rows: readonly OhlcvRow[], period: string): OhlcvRow[] {
  return rows.filter((row) => new Date(row[0]).toISOString().startsWith(period));
}

/**
 * Data-dump kline CSV (12 columns, no header, ms times) from OHLCV rows; columns the source lacks
 * (quote volume, trades, taker volumes, ignore) are written as 0.
 */
export function klineCsv(rows: readonly OhlcvRow[], intervalMs = 300_000): string {
  const lines = rows.map(([t, o, h, l, c, v]) =>
    [t, fix(o), fix(h), fix(l), fix(c), fix(v), t + intervalMs - 1, "0", "0", "0", "0", "0"].join(","),
  );
  return `${lines.join("\n")}\n`;
}

function fix(value: number): string {
  return value.toFixed(8);
}

export interface WrittenArchive {
  /** URL path, e.g. `/data/spot/monthly/klines/…/X.zip`. */
  readonly urlPath: string;
  readonly file: string;
  readonly bytes: Buffer;
  readonly sha256: string;
}

export interface ArchiveOptions {
  /** Publish a well-formed checksum that does not match the zip. */
  wrongChecksum?: boolean;
  /** Publish a `.CHECKSUM` that is not `<sha256>  <name>` at all (an HTML error page, say). */
  malformedChecksum?: boolean;
}

/** What a misconfigured mirror might serve as a `.CHECKSUM`. */
export const MALFORMED_CHECKSUM = "<html><body>Not a checksum</body></html>\n";

/**
 * Writes `<root>/<remotePath>` as a zip holding `csv` under the archive's base name, and its `.CHECKSUM`
 * (`<sha256>  <name>.zip`, as sha256sum writes it), or a wrong or malformed one as `options` say.
 */
export function writeArchive(
  root: string,
  remotePath: string,
  csv: string,
  options: ArchiveOptions = {},
): WrittenArchive {
  const file = join(root, remotePath);
  const name = remotePath.split("/").pop() as string;
  const zipped = zipSync(
    {
      [name.replace(/\.zip$/, ".csv")]: [
        new TextEncoder().encode(csv),
        { mtime: new Date("2021-06-01T00:00:00Z") },
      ],
    },
    { level: 6 },
  );
  const bytes = Buffer.from(zipped);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const published = options.wrongChecksum
    ? createHash("sha256").update("something else").digest("hex")
    : sha256;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  writeFileSync(
    `${file}.CHECKSUM`,
    options.malformedChecksum ? MALFORMED_CHECKSUM : `${published}  ${name}\n`,
  );
  return { urlPath: `/${remotePath}`, file, bytes, sha256 };
}

/** The real 10-row ADABTC 1m data-dump CSV of 2021-11-27. */
export function adabtcFixtureCsv(): string {
  const path = resolve(HERE, "..", "fixtures", "ADABTC-1m-2021-11-27.csv");
  return readFileSync(path, "utf8");
}
