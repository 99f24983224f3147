import { describe, expect, it } from "vitest";
import { createRLM } from "../engine/create-rlm.js";
import { generateDemoCorpus, generateHaystack, generateOrders } from "./demo-corpus.js";
import { createDemoModel } from "./demo-model.js";

describe("the offline demo model (not an LLM)", () => {
  it("finds a planted fact in a 10M-token (45 MB) context", async () => {
    const context = generateHaystack({
      chars: 45_000_000,
      needle: "The lighthouse keeper's cat is called Pepperkorn.",
      seed: 99,
      needleAt: 0.42,
    });
    const result = await createRLM({ model: createDemoModel() }).run({
      query: "What is the lighthouse keeper's cat called?",
      context,
    });
    expect(result.answer).toContain("Pepperkorn");
    expect(result.stopReason).toBe("final");
    // It searched with code and delegated reading: sub-calls happened.
    expect(result.usage.llmCalls).toBeGreaterThan(result.iterations);
  }, 60_000);

  it("finds the fact in a folder of documents, whichever memo holds it", async () => {
    for (const seed of [1, 2, 3]) {
      const { documents, question, expected } = generateDemoCorpus({ totalChars: 600_000, documents: 30, seed });
      const result = await createRLM({ model: createDemoModel() }).run({
        query: question,
        context: documents as never,
      });
      expect(result.answer).toContain(expected);
    }
  });

  it("counts and sums records with a map-reduce over llm_query_batched", async () => {
    const orders = generateOrders({ count: 12_000, seed: 3 });
    const records = orders.split("\n").map((l) => JSON.parse(l) as { city: string; status: string; amount: number });
    const matching = records.filter((r) => r.city === "Lisbon" && r.status === "returned");
    const rlm = createRLM({ model: createDemoModel() });
    const count = await rlm.run({ query: "How many orders from Lisbon were returned?", context: orders });
    expect(count.answer).toBe(String(matching.length));
    expect(count.usage.llmCalls).toBe(2 + Math.ceil(records.length / 500));
    const total = await rlm.run({
      query: "What is the total amount of orders from Lisbon that were returned?",
      context: orders,
    });
    expect(Number(total.answer)).toBeCloseTo(
      matching.reduce((s, r) => s + r.amount, 0),
      2,
    );
    const asArray = await rlm.run({ query: "How many orders from Lisbon were returned?", context: records as never });
    expect(asArray.answer).toBe(String(matching.length));
  });

  it("says so when nothing matches, instead of inventing an answer", async () => {
    const context = generateHaystack({ chars: 300_000, needle: "Nothing unusual today.", seed: 4 });
    const result = await createRLM({ model: createDemoModel() }).run({
      query: "What is the zeppelin's registration?",
      context,
    });
    expect(result.answer).toMatch(/could not find/i);
  });
});
