import type { Writable } from "node:stream";

/** What every command receives: global options and where to write. No hidden globals. */
export interface CliContext {
  /** Directory holding the YAML configuration files (`--config-dir`, default `config`). */
  readonly configDir: string;
  readonly verbose: boolean;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  /** Interactive progress (bars redrawn in place) only on a TTY; plain periodic lines otherwise. */
  readonly interactive: boolean;
}

export function print(stream: Writable, text: string): void {
  stream.write(text.endsWith("\n") ? text : `${text}\n`);
}
