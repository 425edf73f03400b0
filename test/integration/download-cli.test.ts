/**
 * `cryptoml data download` as a user runs it: the built executable (`bin/cryptoml.js` over dist/, so
 * `npm run build` first) in a process of its own, stopped with a real SIGINT, against the local
 * data-dump server stalling mid-file, and two runs racing for one download directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatBytes } from "../../src/data/download/index.js";
import {
  DataDumpServer,
  klineCsv,
  loadBundledCandles,
  rowsIn,
  type WrittenArchive,
  writeArchive,
} from "../helpers/data-dump-server.js";
import { REPO_ROOT } from "../helpers/run-cli.js";

const BIN = join(REPO_ROOT, "bin", "cryptoml.js");
/** Bytes the server sends of the first request for the zip before it stalls (the zip is ~1.3 MB). */
const STALL_AFTER = 50_000;
/** What the executable runs of this command; it must not be older than its source. */
const BUILT_SOURCES = [
  "cli/commands/data-download",
  "cli/main",
  "data/download/downloader",
  "data/download/http",
  "data/download/outcome",
  "data/download/plan",
  "data/download/progress",
];

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Running {
  readonly child: ChildProcess;
  readonly exit: Promise<Exit>;
  /** Output so far. */
  readonly output: () => string;
}

let root: string;
let out: string;
let store: string;
let server: DataDumpServer;
let jan: WrittenArchive;
const children: ChildProcess[] = [];

/** Starts `cryptoml data download <args>` from the build, with non-TTY output as in a pipeline. */
function start(args: readonly string[]): Running {
  const child = spawn(process.execPath, [BIN, "data", "download", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CRYPTOML_DATA__STORE_DIR: store },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<Exit>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
  return { child, exit, output: () => `${stdout}${stderr}` };
}

/** Polls until `ready()`; fails with the child's output if it exits first or nothing happens in 20 s. */
async function waitFor(running: Running, what: string, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (running.child.exitCode !== null) {
      throw new Error(`the command exited (${running.child.exitCode}) before ${what}:\n${running.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${running.output()}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);
const local = () => join(out, jan.urlPath.replace(/^\/data\//, ""));
const args = () => ["--symbols", "BTCUSDT", "--from", "2021-01", "--base-url", server.baseUrl, "--out", out];

/** Starts a download that stalls after {@link STALL_AFTER} bytes and waits until they are in the `.part`. */
async function startStalled(): Promise<Running> {
  server.stallAfter(jan.urlPath, STALL_AFTER);
  const running = start(args());
  await waitFor(running, "the first bytes arrive", () => sizeOf(`${local()}.part`) >= STALL_AFTER);
  return running;
}

beforeAll(() => {
  for (const name of BUILT_SOURCES) {
    const built = join(REPO_ROOT, "dist", `${name}.js`);
    const source = join(REPO_ROOT, "src", `${name}.ts`);
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
      throw new Error(`dist/${name}.js is missing or older than its source: run \`npm run build\` first`);
    }
  }
});

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "cryptoml-download-cli-"));
  out = join(root, "downloads");
  store = join(root, "store");
  server = await DataDumpServer.start(join(root, "remote"));
  const path = "data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-01.zip";
  jan = writeArchive(join(root, "remote"), path, klineCsv(rowsIn(loadBundledCandles("BTC_USDT"), "2021-01")));
});

afterEach(async () => {
  // Only the children this file started, and only those still running (a failed assertion left them).
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe("cryptoml data download (the built executable)", () => {
  it("exits 130 with INTERRUPTED on a real SIGINT, keeps the .part, and a rerun completes it", async () => {
    const running = await startStalled();
    running.child.kill("SIGINT");
    const stopped = await running.exit;

    expect(stopped.signal).toBeNull(); // it handled the signal and exited on its own
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(
      "error [INTERRUPTED]: download interrupted; partial files were kept as .part",
    );
    expect(stopped.stderr).toContain(
      `hint: run the same command again to resume: cryptoml data download ${args().join(" ")}`,
    );
    expect(sizeOf(`${local()}.part`)).toBe(STALL_AFTER);
    expect(existsSync(local())).toBe(false);
    expect(existsSync(store)).toBe(false); // nothing imported
    // The summary counts the bytes that arrived and does not call the run done.
    expect(stopped.stdout).toContain(
      `downloaded 0, up to date 0, not available 0, failed 0, interrupted 1: ${formatBytes(STALL_AFTER)} in `,
    );
    expect(stopped.stderr).toMatch(/\[0\/1 files\] .*, interrupted\n/);
    expect(stopped.stderr).not.toMatch(/, done\n/);

    const rerun = await start(args()).exit;
    expect(rerun.stderr).not.toMatch(/error/);
    expect(rerun.code).toBe(0);
    expect(server.requestsFor(".zip").at(-1)?.range).toBe(`bytes=${STALL_AFTER}-`);
    expect(rerun.stderr).toContain(`resumed from ${STALL_AFTER} bytes`);
    expect(readFileSync(local()).equals(jan.bytes)).toBe(true);
    expect(existsSync(`${local()}.part`)).toBe(false);
    expect(rerun.stdout).toMatch(/imported 1 file\(s\)/);
  });

  it("refuses a second run on the same download directory, naming the running one's pid", async () => {
    const first = await startStalled();
    const second = await start([...args(), "--no-import"]).exit;

    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`download directory ${out} is locked`);
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    // It appended nothing to the first run's .part and asked the server for nothing.
    expect(sizeOf(`${local()}.part`)).toBe(STALL_AFTER);
    expect(server.requestsFor(".zip")).toHaveLength(1);

    first.child.kill("SIGINT");
    expect((await first.exit).code).toBe(130);
    const rerun = await start([...args(), "--no-import"]).exit;
    expect(rerun.code).toBe(0);
    expect(readFileSync(local()).equals(jan.bytes)).toBe(true);
  });
});
