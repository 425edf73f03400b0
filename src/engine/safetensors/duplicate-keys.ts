/**
 * `JSON.parse` keeps the last of two equal keys without a word. In a safetensors header that hides a
 * tensor (or hands back the wrong one), so the header's text is scanned for repeated keys first.
 */

interface ObjectFrame {
  readonly kind: "object";
  readonly keys: Set<string>;
  /** The key of this object inside its parent, for the error message (`a.b`). */
  readonly path: string;
  expectingKey: boolean;
  lastKey: string;
}

interface ArrayFrame {
  readonly kind: "array";
  readonly path: string;
}

/** Where a key repeats: the key and the dotted path of the object that holds it ("" for the top level). */
export interface DuplicateKey {
  readonly key: string;
  readonly path: string;
}

/**
 * The first key repeated within one object anywhere in `json`, or undefined. `json` must already be
 * valid JSON (this scanner does not validate, it only tracks strings, objects and arrays).
 */
export function findDuplicateKey(json: string): DuplicateKey | undefined {
  const stack: (ObjectFrame | ArrayFrame)[] = [];
  let index = 0;
  while (index < json.length) {
    const char = json[index];
    const top = stack[stack.length - 1];
    if (char === '"') {
      const end = stringEnd(json, index);
      if (top?.kind === "object" && top.expectingKey) {
        const key = JSON.parse(json.slice(index, end)) as string;
        if (top.keys.has(key)) return { key, path: top.path };
        top.keys.add(key);
        top.lastKey = key;
        top.expectingKey = false;
      }
      index = end;
      continue;
    }
    if (char === "{" || char === "[") {
      const path = childPath(top);
      stack.push(
        char === "{"
          ? { kind: "object", keys: new Set(), path, expectingKey: true, lastKey: "" }
          : { kind: "array", path },
      );
    } else if (char === "}" || char === "]") {
      stack.pop();
    } else if (char === "," && top?.kind === "object") {
      top.expectingKey = true;
    }
    index += 1;
  }
  return undefined;
}

function childPath(parent: ObjectFrame | ArrayFrame | undefined): string {
  if (parent === undefined) return "";
  if (parent.kind === "array") return `${parent.path}[]`;
  return parent.path === "" ? parent.lastKey : `${parent.path}.${parent.lastKey}`;
}

/** Index just past the closing quote of the string literal that opens at `start`. */
function stringEnd(json: string, start: number): number {
  let index = start + 1;
  while (index < json.length) {
    const char = json[index];
    if (char === "\\") index += 2;
    else if (char === '"') return index + 1;
    else index += 1;
  }
  return index;
}
