/**
 * Finds the keys a schema accepts at a key path, for "did you mean …?" on unknown keys.
 * Reads zod's public `_zod.def` descriptors; wrappers (default, optional, pipe, …) are looked through.
 */
import type * as z from "zod";

interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
}
interface Schema {
  _zod: { def: Def };
}

const WRAPPERS = new Set(["default", "prefault", "optional", "nullable", "readonly", "catch", "nonoptional"]);

function unwrap(schema: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 32; i++) {
    const def = s._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

/** For a union, the option matching the value's discriminator (or the first object option). */
function pickOption(def: Def, value: unknown): Schema | undefined {
  const options = (def.options ?? []).map(unwrap);
  if (def.discriminator && value !== null && typeof value === "object") {
    const tag = (value as Record<string, unknown>)[def.discriminator];
    const match = options.find((o) => {
      const literal = o._zod.def.shape?.[def.discriminator ?? ""];
      return literal ? (unwrap(literal)._zod.def.values ?? []).includes(tag) : false;
    });
    if (match) return match;
  }
  return options.find((o) => o._zod.def.type === "object");
}

function resolve(schema: Schema, value: unknown): Schema | undefined {
  const s = unwrap(schema);
  return s._zod.def.type === "union" ? pickOption(s._zod.def, value) : s;
}

function child(schema: Schema, segment: PropertyKey): Schema | undefined {
  const def = schema._zod.def;
  if (def.type === "object") return def.shape?.[String(segment)];
  if (def.type === "array") return def.element;
  if (def.type === "record") return def.valueType;
  return undefined;
}

/** Keys of the object schema at `path` (empty when there is none), chosen by `root`'s values for unions. */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[], root: unknown): string[] {
  let current: Schema | undefined = schema as unknown as Schema;
  let value = root;
  for (const segment of path) {
    const resolved: Schema | undefined = current ? resolve(current, value) : undefined;
    current = resolved ? child(resolved, segment) : undefined;
    value =
      value !== null && typeof value === "object"
        ? (value as Record<PropertyKey, unknown>)[segment]
        : undefined;
  }
  const last = current ? resolve(current, value) : undefined;
  return Object.keys(last?._zod.def.shape ?? {});
}
