import type { Command } from "commander";
import type { CliContext } from "../context.js";

// Placeholder while the command is being written; replaced in the same change.
export function registerAnalyzeCommands(_program: Command, _getContext: () => CliContext): void {}
