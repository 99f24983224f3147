import { describe, expect, it } from "vitest";
import { conversationToTask } from "./conversation-to-task.js";

describe("conversationToTask", () => {
  it("makes the last user message the query, short system text instructions, the rest context", () => {
    const big = "x".repeat(5_000);
    const task = conversationToTask([
      { role: "system", parts: [{ text: "Be brief." }, { text: big }] },
      { role: "user", parts: [{ text: "earlier question" }] },
      { role: "assistant", parts: [{ text: "earlier answer" }] },
      { role: "user", parts: [{ text: "the question" }, { text: "file body", name: "a.txt" }] },
    ]);
    expect(task.query).toBe("Instructions: Be brief.\n\nthe question");
    expect(task.context).toEqual([
      { role: "system", text: big },
      { role: "user", text: "earlier question" },
      { role: "assistant", text: "earlier answer" },
      { role: "user", name: "a.txt", text: "file body" },
    ]);
  });

  it("moves an oversized last message into the context and bounds the query", () => {
    const huge = "y".repeat(1_000_000);
    const task = conversationToTask([{ role: "user", parts: [{ text: huge }] }]);
    expect(task.query.length).toBeLessThan(200);
    expect(task.context).toBe(huge);
  });

  it("lets an override supply the context and the query", () => {
    const task = conversationToTask([{ role: "user", parts: [{ text: "q" }] }], { context: [1, 2], query: "other" });
    expect(task).toEqual({ query: "other", context: [1, 2] });
  });
});
