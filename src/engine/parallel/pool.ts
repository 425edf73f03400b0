/**
 * The coordinator's side of the worker threads: start them, send one message per replica and collect
 * one reply per replica, turning any failure (an error reply, an uncaught exception, an unexpected
 * exit, a timeout) into one rejection that carries the failing replica's own message, after waking
 * every barrier and terminating every thread.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { CryptomlError } from "../../core/errors.js";
import { abortBarrier } from "./barrier.js";
import type { ExportMessage, FromWorker, ToWorker } from "./protocol.js";

/**
 * The compiled worker entry: beside this module in dist/, or dist/'s copy when this module runs from
 * src/ (vitest, tsx), since worker threads need JavaScript.
 */
export function workerEntry(): URL {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(
    fromSource ? "../../../dist/engine/parallel/worker.js" : "./worker.js",
    import.meta.url,
  );
  if (!existsSync(fileURLToPath(url))) {
    throw new CryptomlError("INTERNAL", `the replica worker ${fileURLToPath(url)} is missing`, {
      hint: "run `npm run build`",
    });
  }
  return url;
}

type Waiter = (reply: FromWorker) => void;

let liveInProcess = 0;

/** Replica threads of every pool in this process not yet exited (for leak checks and monitoring). */
export function liveReplicaThreads(): number {
  return liveInProcess;
}

export class WorkerPool {
  readonly #workers: Worker[];
  readonly #alive = new Set<Worker>();
  readonly #waiters: (Waiter | undefined)[];
  readonly #control: Int32Array;
  readonly #timeoutMs: number;
  /** A failure that arrived while no request was pending (e.g. a crash between steps). */
  #broken: string | undefined;
  #closing = false;

  constructor(count: number, control: Int32Array, timeoutMs: number) {
    const entry = workerEntry();
    this.#control = control;
    this.#timeoutMs = timeoutMs;
    this.#waiters = new Array<Waiter | undefined>(count).fill(undefined);
    this.#workers = Array.from({ length: count }, (_, rank) => {
      const worker = new Worker(entry, { name: `cryptoml-replica-${rank}` });
      this.#alive.add(worker);
      liveInProcess++;
      worker.on("message", (reply: FromWorker) => this.#deliver(rank, reply));
      worker.on("error", (error: Error) =>
        this.#deliver(rank, { type: "error", message: `replica ${rank}: ${error.message}`, aborted: false }),
      );
      worker.on("exit", (code) => {
        this.#forget(worker);
        if (!this.#closing) {
          this.#deliver(rank, {
            type: "error",
            message: `replica ${rank}: thread exited with code ${code}`,
            aborted: false,
          });
        }
      });
      return worker;
    });
  }

  /** Threads not yet exited. */
  get live(): number {
    return this.#alive.size;
  }

  #forget(worker: Worker): void {
    if (this.#alive.delete(worker)) liveInProcess--;
  }

  #deliver(rank: number, reply: FromWorker): void {
    const waiter = this.#waiters[rank];
    this.#waiters[rank] = undefined;
    if (waiter !== undefined) waiter(reply);
    else if (reply.type === "error") {
      this.#broken ??= reply.message;
      abortBarrier(this.#control);
    }
  }

  /** Posts a message that expects no reply (new batch buffers) to every replica, in order. */
  broadcast(message: ToWorker): void {
    for (const worker of this.#workers) worker.postMessage(message);
  }

  /**
   * Sends `messages[rank]` to each replica and resolves with every reply once all are of type
   * `expected`. Otherwise it aborts the barriers, waits for the others to give up (or the timeout),
   * terminates every thread and rejects with the first original (non-"aborted") error.
   */
  async request(messages: readonly ToWorker[], expected: FromWorker["type"]): Promise<FromWorker[]> {
    if (this.#broken !== undefined || this.#closing) {
      throw new CryptomlError("INTERNAL", `the replicas are stopped: ${this.#broken ?? "closed"}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    const replies = this.#workers.map(
      (worker, rank) =>
        new Promise<FromWorker>((resolve) => {
          this.#waiters[rank] = (reply) => {
            if (reply.type === "error") abortBarrier(this.#control);
            resolve(reply);
          };
          worker.postMessage(messages[rank]);
        }),
    );
    const all = await Promise.race([Promise.all(replies), timeout]);
    clearTimeout(timer);
    if (all !== "timeout" && all.every((reply) => reply.type === expected)) return all;
    abortBarrier(this.#control);
    const failures = all === "timeout" ? [] : all.filter((reply) => reply.type === "error");
    const primary = failures.find((f) => !f.aborted) ?? failures[0];
    const message =
      primary?.message ??
      (all === "timeout" ? `no reply from the replicas within ${this.#timeoutMs} ms` : "unexpected reply");
    this.#broken = message;
    await this.terminate();
    throw new CryptomlError("INTERNAL", message);
  }

  /**
   * Asks replica `rank` for its state and blocks this thread until it answers (the StepEngine's state
   * getters are synchronous, and they are read between steps, when the replicas are idle). The
   * reply comes through a fresh port read with `receiveMessageOnPort`, since this thread's event loop
   * does not run while it waits.
   */
  requestSync(rank: number, optimizer: boolean): FromWorker & { type: "exported" } {
    if (this.#broken !== undefined || this.#closing) {
      throw new CryptomlError("INTERNAL", `the replicas are stopped: ${this.#broken ?? "closed"}`);
    }
    const { port1, port2 } = new MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const message: ExportMessage = {
      type: "export",
      optimizer,
      port: port2,
      flag: flag.buffer as SharedArrayBuffer,
    };
    (this.#workers[rank] as Worker).postMessage(message, [port2]);
    Atomics.wait(flag, 0, 0, this.#timeoutMs);
    const received = receiveMessageOnPort(port1)?.message as FromWorker | undefined;
    port1.close();
    if (received === undefined) {
      throw new CryptomlError(
        "INTERNAL",
        `replica ${rank} did not send its state within ${this.#timeoutMs} ms`,
        {
          hint: "read the engine's state between steps, after the last step() has resolved",
        },
      );
    }
    if (received.type !== "exported") {
      throw new CryptomlError("INTERNAL", received.type === "error" ? received.message : "unexpected reply");
    }
    return received;
  }

  /** Terminates every thread and resolves once all have exited. Idempotent. */
  async terminate(): Promise<void> {
    this.#closing = true;
    abortBarrier(this.#control);
    await Promise.all(
      this.#workers.map(async (worker) => {
        await worker.terminate();
        this.#forget(worker);
      }),
    );
    this.#waiters.fill(undefined);
  }
}
