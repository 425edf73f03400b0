/** Shared by the config tests: fixture paths and "load and return the problems". */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/loader.js";
import { ConfigError } from "../../src/core/errors.js";

// Kept under test/ so it never ships in dist.
const root = fileURLToPath(new URL("../..", import.meta.url));

/** Paths as a user would type them (relative to the working directory), so messages read naturally. */
export const CONFIG_DIR = relative(process.cwd(), join(root, "config")) || ".";
export const fixtureDir = (name: string): string =>
  relative(process.cwd(), join(root, "test/fixtures/config", name));

/** The problems loadConfig reports, or a failure when it unexpectedly succeeds. */
export async function problemsOf(configDir: string, env: NodeJS.ProcessEnv = {}): Promise<readonly string[]> {
  try {
    await loadConfig({ configDir, env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${configDir} to be rejected, but it loaded`);
}
