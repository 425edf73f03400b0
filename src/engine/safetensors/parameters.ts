/**
 * Model weights as safetensors, keyed by the parameters' PyTorch `state_dict` names, so a file written
 * here loads with `model.load_state_dict(safetensors.torch.load_file(path))` and the reverse.
 * Loading mirrors `load_state_dict`: the same checks and messages, the same meaning of `strict`.
 */
import { CryptomlError, type CryptomlErrorOptions, DataFormatError } from "../../core/errors.js";
import type { Parameter } from "../parameter.js";
import { type DecodedTensor, formatShape, type SafetensorsContents } from "./decode.js";
import { readSafetensors, writeSafetensors } from "./file.js";

export interface LoadParametersOptions {
  /**
   * Require the file's keys to match the parameters' names exactly, as `load_state_dict(strict=True)`.
   * When false, parameters absent from the file keep their values and tensors absent from the model are
   * ignored; both are reported in the result. Shape and dtype mismatches are errors either way.
   * Default: true.
   */
  readonly strict?: boolean;
  /**
   * Accept F64, F16 and BF16 tensors and convert them to Float32 (F64 rounds to nearest), as PyTorch's
   * `copy_` would. Default: false, so a file saved in another precision is noticed rather than silently cast.
   */
  readonly castFloats?: boolean;
}

export interface LoadParametersResult {
  /** Parameters the file has no tensor for (always empty when strict). */
  readonly missingKeys: readonly string[];
  /** Tensors in the file that no parameter is named after (always empty when strict). */
  readonly unexpectedKeys: readonly string[];
  /** The file's `__metadata__` strings. */
  readonly metadata: Record<string, string>;
}

/** The file's tensors do not fit the parameters; every problem found is listed, one per line. */
export class StateDictError extends DataFormatError {
  readonly missingKeys: readonly string[];
  readonly unexpectedKeys: readonly string[];
  readonly problems: readonly string[];

  constructor(
    file: string,
    problems: { missing: readonly string[]; unexpected: readonly string[]; other: readonly string[] },
    options: CryptomlErrorOptions = {},
  ) {
    const lines = [
      ...(problems.missing.length > 0
        ? [`Missing key(s) in state_dict: ${quoteAll(problems.missing)}.`]
        : []),
      ...(problems.unexpected.length > 0
        ? [`Unexpected key(s) in state_dict: ${quoteAll(problems.unexpected)}.`]
        : []),
      ...problems.other,
    ];
    super(file, undefined, `Error(s) in loading parameters:\n\t${lines.join("\n\t")}`, options);
    this.missingKeys = problems.missing;
    this.unexpectedKeys = problems.unexpected;
    this.problems = lines;
  }
}

/**
 * Writes the parameters' values (not their gradients) to `path` as F32 safetensors, atomically.
 * `metadata` is stored as the file's `__metadata__` (strings only), e.g. `{ format: "pt" }`.
 */
export async function saveParameters(
  path: string,
  params: readonly Parameter[],
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeSafetensors(
    path,
    params.map(({ name, shape, data }) => ({ name, shape, data })),
    metadata,
  );
}

/**
 * Reads `path` and copies each tensor into the parameter of the same name, in place. Nothing is copied
 * unless every check passes, so a failed load leaves the parameters as they were.
 * @throws StateDictError listing missing and unexpected keys (when strict), shape and dtype mismatches;
 *   DataFormatError when the file itself is malformed.
 */
export async function loadParameters(
  path: string,
  params: readonly Parameter[],
  options: LoadParametersOptions = {},
): Promise<LoadParametersResult> {
  return copyIntoParameters(await readSafetensors(path), path, params, options);
}

/** {@link loadParameters} for contents already decoded; `sourceName` names them in errors. */
export function copyIntoParameters(
  contents: SafetensorsContents,
  sourceName: string,
  params: readonly Parameter[],
  options: LoadParametersOptions = {},
): LoadParametersResult {
  const { strict = true, castFloats = false } = options;
  const byName = indexByName(params);
  const missing = params.filter((param) => !contents.tensors.has(param.name)).map((param) => param.name);
  const unexpected = [...contents.tensors.keys()].filter((name) => !byName.has(name));
  const other: string[] = [];
  for (const [name, tensor] of contents.tensors) {
    const param = byName.get(name);
    if (param !== undefined) other.push(...mismatches(param, tensor, castFloats));
  }
  if (other.length > 0 || (strict && missing.length + unexpected.length > 0)) {
    throw new StateDictError(
      sourceName,
      { missing: strict ? missing : [], unexpected: strict ? unexpected : [], other },
      { hint: hintFor(other.length > 0, strict) },
    );
  }
  for (const [name, tensor] of contents.tensors)
    byName.get(name)?.data.set(tensor.data as Float32Array | Float64Array);
  return { missingKeys: missing, unexpectedKeys: unexpected, metadata: contents.metadata };
}

function mismatches(param: Parameter, tensor: DecodedTensor, castFloats: boolean): string[] {
  const problems: string[] = [];
  if (!sameShape(param.shape, tensor.shape)) {
    problems.push(
      `size mismatch for ${param.name}: copying a param with shape ${formatShape(tensor.shape)} from checkpoint, the shape in current model is ${formatShape(param.shape)}.`,
    );
  }
  const castable = tensor.dtype === "F64" || tensor.dtype === "F16" || tensor.dtype === "BF16";
  if (tensor.dtype !== "F32" && !(castFloats && castable)) {
    const advice = castable ? " (pass castFloats: true to convert)" : "";
    problems.push(
      `dtype mismatch for ${param.name}: the checkpoint holds ${tensor.dtype}, parameters are F32${advice}.`,
    );
  }
  return problems;
}

function indexByName(params: readonly Parameter[]): Map<string, Parameter> {
  const byName = new Map<string, Parameter>();
  for (const param of params) {
    if (byName.has(param.name)) {
      throw new CryptomlError("INTERNAL", `two parameters are both named "${param.name}"`, {
        hint: "every parameter of a model needs a distinct state_dict name; this is a bug in the model definition",
      });
    }
    byName.set(param.name, param);
  }
  return byName;
}

function hintFor(hasMismatch: boolean, strict: boolean): string {
  if (hasMismatch) {
    return "the file was saved from a model with another configuration (sizes, layers, features) or precision; rebuild the model with the config the weights were trained with";
  }
  return strict
    ? "the file was saved from a different architecture; pass strict: false to load only the parameters whose names match"
    : "";
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

function quoteAll(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(", ");
}
