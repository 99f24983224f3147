import { describe, expect, it } from "vitest";
import type { TextOpReply } from "./protocol.js";
import { textReplyMessage } from "./worker-pool.js";

describe("textReplyMessage", () => {
  it("posts a long string answer as NUL-terminated UTF-8 in a buffer to transfer", () => {
    const text = "Ünïcödé 😀 ".repeat(7_000); // 70,000 characters
    const [message, transfer] = textReplyMessage({ ok: true, value: text });
    if (!message.ok || message.utf8 === undefined) throw new Error("expected UTF-8");
    expect(transfer).toEqual([message.utf8.buffer]);
    expect(message.utf8.at(-1)).toBe(0);
    expect(new TextDecoder().decode(message.utf8.subarray(0, -1))).toBe(text);
  });

  it.each<[string, TextOpReply]>([
    ["a string under 64K characters", { ok: true, value: "a".repeat(64 * 1024 - 1) }],
    ["a long string with a NUL", { ok: true, value: `${"a".repeat(70_000)}\u0000` }],
    ["a long string with a lone surrogate", { ok: true, value: `${"a".repeat(70_000)}\uD800` }],
    ["a number", { ok: true, value: 42 }],
    ["an error", { ok: false, error: { name: "RangeError", message: "no" } }],
  ])("posts %s as it is", (_, reply) => {
    expect(textReplyMessage(reply)).toEqual([reply, []]);
  });
});
