import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeForGuest, GuestStrings } from "./guest-strings.js";
import { disposePreparedVM, type PreparedVM, prepareVM } from "./quickjs-repl.js";

describe("GuestStrings", () => {
  let prepared: PreparedVM;
  beforeAll(async () => {
    prepared = await prepareVM(false);
  });
  afterAll(() => disposePreparedVM(prepared));

  const roundTrip = (text: string, via: "string" | "utf8" = "string") => {
    const utf8 = via === "utf8" ? encodeForGuest(text) : undefined;
    if (via === "utf8" && utf8 === undefined) throw new Error("not encodable");
    const handle = utf8 ? prepared.strings.newStringFromUtf8(utf8) : prepared.strings.newString(text);
    try {
      // Length and content as the guest sees them (JSON keeps NULs and lone surrogates visible).
      const json = prepared.vm.unwrapResult(prepared.vm.evalCode("(s) => JSON.stringify([s.length, s])"));
      const out = prepared.vm.unwrapResult(prepared.vm.callFunction(json, prepared.vm.undefined, handle));
      json.dispose();
      const result = prepared.vm.getString(out);
      out.dispose();
      return JSON.parse(result) as [number, string];
    } finally {
      handle.dispose();
    }
  };

  it("takes the native path with the installed quickjs-emscripten (a version that changes its internals fails here)", () => {
    expect(prepared.strings.native).toBe(true);
  });

  it.each([
    ["plain", "'plain text'", "plain text"],
    ["with NULs", "'a\\u0000b'.repeat(3)", "a\u0000b".repeat(3)],
    ["with a lone surrogate", "'x\\uD800y'", "x\uD800y"],
    ["with a leading byte-order mark", "'\\uFEFF' + 'b'.repeat(300)", `\uFEFF${"b".repeat(300)}`],
  ])("a guest string is read exactly: %s", (_, code, expected) => {
    const handle = prepared.vm.unwrapResult(prepared.vm.evalCode(code));
    try {
      expect(prepared.strings.getExactString(handle)).toBe(expected);
    } finally {
      handle.dispose();
    }
  });

  it.each([
    ["short ASCII", "hello"],
    ["long ASCII", "lorem ipsum ".repeat(10_000)],
    ["long non-Latin1, astral characters too", "Ünïcödé 😀 ".repeat(5_000)],
    ["a NUL, short", "a\u0000b"],
    ["NULs in a long text", "x\u0000y".repeat(50_000)],
    ["a lone surrogate in a long text", `${"z".repeat(1_000)}\uD800${"z".repeat(1_000)}`],
    ["a leading byte-order mark", `\uFEFF${"text ".repeat(1_000)}`],
  ])("a string arrives whole: %s", (_, text) => {
    expect(roundTrip(text)).toEqual([text.length, text]);
  });

  it.each([
    ["long ASCII", "lorem ipsum ".repeat(10_000)],
    ["long non-Latin1, astral characters too", "Ünïcödé 😀 ".repeat(5_000)],
    ["a real U+FFFD", "\uFFFD".repeat(3)],
    ["a leading byte-order mark", `\uFEFF${"a".repeat(70_000)}`],
  ])("a string encoded in another thread arrives whole: %s", (_, text) => {
    expect(roundTrip(text, "utf8")).toEqual([text.length, text]);
  });

  it("without quickjs-emscripten's internals, the public API gives the same strings", () => {
    const { vm } = prepared;
    const bare = Object.create(vm, { module: { value: undefined } }) as typeof vm;
    const parse = vm.unwrapResult(vm.evalCode("JSON.parse"));
    const stringify = vm.unwrapResult(vm.evalCode("JSON.stringify"));
    const strings = new GuestStrings(bare, parse, stringify);
    try {
      expect(strings.native).toBe(false);
      for (const text of [`\uFEFF${"a".repeat(70_000)}`, "Ünïcödé 😀 ".repeat(5_000)]) {
        const handle = strings.newStringFromUtf8(encodeForGuest(text) as Uint8Array);
        expect(strings.getExactString(handle)).toBe(text);
        handle.dispose();
      }
    } finally {
      strings.dispose();
    }
  });

  it.each([
    ["a NUL", "x\u0000y".repeat(50_000)],
    ["a lone surrogate", `${"z".repeat(1_000)}\uD800${"z".repeat(1_000)}`],
  ])("a string with %s is not encoded for the guest (it must cross as a string)", (_, text) => {
    expect(encodeForGuest(text)).toBeUndefined();
  });
});
