/**
 * A real MLflow tracking server for integration tests: `mlflow server` from the peers venv
 * (test/peers/requirements-tracking.txt; `npm run test:peers` installs it), on a free local port, with a
 * SQLite backend and a proxied artifact folder in a fresh temporary directory.
 *
 * Start-up takes several seconds (the CLI imports MLflow, migrates the database, then starts uvicorn,
 * which imports it again), so a test file should start one server in beforeAll and share it. What keeps
 * it short: one uvicorn worker and no background job executor.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/core/free-port.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MLFLOW_BIN = join(ROOT, ".venv-peers", "bin", "mlflow");

export interface MlflowServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly uri: string;
  readonly port: number;
  /** The temporary directory holding mlflow.db and artifacts/; removed by stop(). */
  readonly dir: string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL) and keeps its directory, to simulate a crash; restart() revives it. */
  kill(): void;
  /** Starts the server again on the same port and store (after kill(), or stops it first). */
  restart(): Promise<void>;
}

export interface StartOptions {
  /** How long to wait for /health; default 60 s (start-up is slow on a loaded 2-core machine). */
  readonly timeoutMs?: number;
}

/**
 * Servers still running when the test process exits (a crashed or interrupted run) are killed, so none
 * outlives the tests; the children lead their own process groups and would otherwise be orphaned.
 */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) signalGroup(child, "SIGKILL");
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Signals the CLI and the uvicorn process it spawned: the child leads its own process group, which
 * outlives the CLI while uvicorn runs, so this works just after the CLI exited too.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export async function startMlflowServer(options: StartOptions = {}): Promise<MlflowServer> {
  if (!existsSync(MLFLOW_BIN)) {
    throw new Error(
      `${MLFLOW_BIN} is missing: run \`npm run test:peers\` to install MLflow into .venv-peers/`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), "cryptoml-mlflow-"));
  const artifacts = join(dir, "artifacts");
  mkdirSync(artifacts);
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = "";
  let removed = false;

  const launch = async (): Promise<void> => {
    output = "";
    const proc = spawn(
      MLFLOW_BIN,
      [
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--backend-store-uri",
        `sqlite:///${join(dir, "mlflow.db")}`,
        "--artifacts-destination",
        artifacts,
        "--workers",
        "1",
      ],
      {
        cwd: dir,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          PYTHONUNBUFFERED: "1",
          // The huey job executor (MLflow 3's background jobs) costs start-up time and is not needed.
          MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false",
          MLFLOW_DISABLE_TELEMETRY: "true",
          DO_NOT_TRACK: "true",
          MLFLOW_TRACKING_URI: "",
        },
      },
    );
    child = proc;
    running.add(proc);
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-8000);
    };
    proc.stdout?.on("data", collect);
    proc.stderr?.on("data", collect);
    let exited: string | undefined;
    proc.on("exit", (code, signal) => {
      running.delete(proc);
      exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exited !== undefined) {
        throw new Error(
          `mlflow server on port ${port} died during start-up (${exited}); its output ends:\n${tail(output)}`,
        );
      }
      try {
        const response = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    signalGroup(proc, "SIGKILL");
    throw new Error(
      `mlflow server on port ${port} did not answer /health within ${timeoutMs} ms; its output ends:\n${tail(output)}`,
    );
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined) return;
    if (proc.exitCode !== null || proc.signalCode !== null) {
      signalGroup(proc, "SIGKILL");
      return;
    }
    const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    signalGroup(proc, "SIGTERM");
    const timer = setTimeout(() => signalGroup(proc, "SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
    // uvicorn runs in the group; make sure no straggler keeps the port.
    signalGroup(proc, "SIGKILL");
  };

  const server: MlflowServer = {
    uri,
    port,
    dir,
    async stop() {
      await halt();
      if (!removed) rmSync(dir, { recursive: true, force: true });
      removed = true;
    },
    kill() {
      const proc = child;
      child = undefined;
      if (proc !== undefined) signalGroup(proc, "SIGKILL");
    },
    async restart() {
      await halt();
      await launch();
    },
  };
  try {
    await launch();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
