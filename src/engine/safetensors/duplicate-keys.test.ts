import { describe, expect, it } from "vitest";
import { findDuplicateKey } from "./duplicate-keys.js";

describe("findDuplicateKey", () => {
  it("finds nothing in a header whose keys are distinct per object", () => {
    expect(
      findDuplicateKey('{"a":{"dtype":"F32"},"b":{"dtype":"F32"},"__metadata__":{"a":"1"}}'),
    ).toBeUndefined();
  });

  it("finds a key repeated at the top level", () => {
    expect(findDuplicateKey('{"a":1, "b":2 ,"a":3}')).toEqual({ key: "a", path: "" });
  });

  it("finds a key repeated inside a nested object and names the path", () => {
    expect(findDuplicateKey('{"x":{"shape":[1],"shape":[2]}}')).toEqual({ key: "shape", path: "x" });
    expect(findDuplicateKey('{"__metadata__":{"k":"1","k":"2"}}')).toEqual({
      key: "k",
      path: "__metadata__",
    });
  });

  it("compares decoded keys and ignores string values and arrays", () => {
    expect(findDuplicateKey('{"a":"\\"a\\",","\\u0061":1}')).toEqual({ key: "a", path: "" });
    expect(findDuplicateKey('{"a":["a","a",{"b":1},{"b":2}]}')).toBeUndefined();
  });
});
