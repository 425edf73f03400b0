/**
 * Run artifacts of the embedded store: plain files under each run's `file:` artifact URI, so they can be
 * opened, copied or served without cryptoml. Paths are relative and `/`-separated; one that would leave
 * the run's folder is refused before touching the disk.
 */
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { invalidValue, notFound, TrackingError } from "../errors.js";
import type { ArtifactEntry } from "../types.js";

/** Temporary files writeFileAtomic leaves behind after a crash: never artifacts, so never listed. */
const ATOMIC_TEMPORARY = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

/** The local folder of a `file:` artifact URI. */
export function artifactFolder(artifactUri: string): string {
  if (!artifactUri.startsWith("file:")) {
    throw new TrackingError(
      "INVALID_STATE",
      `the run's artifact URI ${artifactUri} is not a local file: URI`,
      {
        hint: "open this run through the store that owns its artifacts",
      },
    );
  }
  return fileURLToPath(artifactUri);
}

/**
 * Splits an artifact path into its segments, refusing absolute paths and `..` (which could reach
 * other runs' files or anything on disk). `allowRoot` admits "" for listing the root.
 */
export function artifactSegments(path: string, allowRoot = false): string[] {
  const refuse = (why: string) =>
    invalidValue(
      `artifact path '${path}' ${why}`,
      "pass a relative path such as 'model/weights.safetensors'",
    );
  if (path.includes("\0")) throw refuse("contains a NUL character");
  // A backslash is a separator on Windows, so `a\..\..` must not slip past the `..` check there.
  if (path.startsWith("/") || path.includes("\\") || isAbsolute(path) || /^[A-Za-z]:/.test(path)) {
    throw refuse("must be relative and '/'-separated");
  }
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) throw refuse("must not contain '..'");
  if (segments.length === 0 && !allowRoot) throw refuse("names no file");
  return segments;
}

/** The absolute location of `path` under `root`, checked again after resolution as a second guard. */
function locate(root: string, path: string, allowRoot = false): string {
  const target = resolve(root, ...artifactSegments(path, allowRoot));
  const inside = relative(root, target);
  if (inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) {
    throw invalidValue(`artifact path '${path}' escapes the run's artifact folder`);
  }
  return target;
}

export async function putArtifact(artifactUri: string, path: string, bytes: Uint8Array): Promise<void> {
  const root = artifactFolder(artifactUri);
  const target = locate(root, path);
  await mkdir(resolve(target, ".."), { recursive: true });
  await writeFileAtomic(target, bytes);
}

/** The entries directly under `path`, sorted by path; [] when it does not exist or is a file (as MLflow). */
export async function listArtifacts(artifactUri: string, path = ""): Promise<ArtifactEntry[]> {
  const root = artifactFolder(artifactUri);
  const folder = locate(root, path, true);
  const prefix = artifactSegments(path, true).join("/");
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  const entries: ArtifactEntry[] = [];
  for (const name of names.sort()) {
    if (ATOMIC_TEMPORARY.test(name)) continue;
    const info = await stat(join(folder, name)).catch(() => undefined);
    const entryPath = prefix === "" ? name : `${prefix}/${name}`;
    if (info?.isDirectory()) entries.push({ path: entryPath, isDir: true });
    else if (info?.isFile()) entries.push({ path: entryPath, isDir: false, fileSize: info.size });
  }
  return entries;
}

export async function getArtifact(artifactUri: string, runId: string, path: string): Promise<Uint8Array> {
  const target = locate(artifactFolder(artifactUri), path);
  try {
    return new Uint8Array(await readFile(target));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw notFound(
        `artifact '${path}' of run ${runId} does not exist`,
        "listArtifacts shows what the run holds",
      );
    }
    if (code === "EISDIR") {
      throw invalidValue(
        `artifact '${path}' of run ${runId} is a directory`,
        "use listArtifacts to see its files",
      );
    }
    throw error;
  }
}
