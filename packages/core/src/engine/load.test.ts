import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { codeReply, createScriptedModel } from "../test/index.js";
import { createRLM } from "./create-rlm.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

async function settledRSS(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().rss;
}

/** 50 runs at once, each with its own models and context; every answer must be its own. */
async function wave(size: number): Promise<void> {
  const runs = Array.from({ length: size }, async (_, i) => {
    const model = createScriptedModel({
      modelId: `root-${i}`,
      replies: [
        codeReply("const parts = await llm_query_batched(context.split(',').map(p => 'echo ' + p))"),
        codeReply("FINAL(parts.join('|'))"),
      ],
    });
    const subModel = createScriptedModel({
      modelId: `sub-${i}`,
      replies: (r) => `${r.prompt.slice(5)}@${i}`,
      latencyMs: 5,
    });
    const context = `run${i}-a,run${i}-b,run${i}-c`;
    const result = await createRLM({ model, subModel }).run({ query: `run ${i}`, context });
    expect(result.answer).toBe(`run${i}-a@${i}|run${i}-b@${i}|run${i}-c@${i}`);
    expect(Object.keys(result.usage.byModel).sort()).toEqual([`root-${i}`, `sub-${i}`]);
  });
  await Promise.all(runs);
}

describe("load", () => {
  it("50 concurrent runs in one process all complete, unmixed, and memory returns to baseline", async () => {
    await wave(5); // warm up code paths and allocator pools before the baseline
    const baseline = await settledRSS();
    await wave(50);
    const afterFirst = await settledRSS();
    await wave(50);
    const afterSecond = await settledRSS();
    const mb = (n: number) => n / (1024 * 1024);
    // Fifty sandboxes (a worker and a QuickJS module each) come and go; what stays is allocator slack, not a leak:
    // a second wave must not add to it.
    expect(mb(afterFirst - baseline)).toBeLessThan(200);
    expect(mb(afterSecond - afterFirst)).toBeLessThan(50);
  }, 120_000);
});
