import { describe, expect, it } from "vitest";
import { createRLM } from "../engine/create-rlm.js";
import { RLMInvalidArgumentError } from "../errors/index.js";
import { createScriptedModel } from "../test/index.js";
import type { RLMSettings } from "./rlm-settings.js";

const model = createScriptedModel({ replies: ["FINAL(ok)"] });
const make = (settings: Record<string, unknown>) => () => createRLM({ model, ...settings } as RLMSettings);

describe("settings are checked at the door", () => {
  it.each([
    [{ model: undefined }, "model", /expected a LanguageModel/],
    [{ model: { invoke() {} } }, "model", /wrap it with the integration's adapter/],
    [{ subModel: "gpt-5" }, "subModel", /got "gpt-5"/],
    [{ maxIterations: 0 }, "maxIterations", /whole number >= 1/],
    [{ maxIterations: -3 }, "maxIterations", /got -3/],
    [{ maxDepth: Number.NaN }, "maxDepth", /got NaN/],
    [{ maxDepth: Number.POSITIVE_INFINITY }, "maxDepth", /finite/],
    [{ maxLLMCalls: 2.5 }, "maxLLMCalls", /whole number/],
    [{ maxTokens: "100" }, "maxTokens", /got "100"/],
    [{ timeoutMs: 0 }, "timeoutMs", />= 1/],
    [{ concurrency: 0 }, "concurrency", />= 1/],
    [{ sandbox: { memoryLimitBytes: 1024 } }, "sandbox.memoryLimitBytes", />= 8,388,608/],
    [{ sandbox: { stepTimeoutMs: -1 } }, "sandbox.stepTimeoutMs", />= 1/],
    [{ sandbox: { maxOutputChars: 10 } }, "sandbox.maxOutputChars", />= 100/],
    [{ sandbox: { memoryLimit: 5 } }, "sandbox.memoryLimit", /Did you mean `sandbox.memoryLimitBytes`/],
    [{ sandbox: { copyContextToWorker: "yes" } }, "sandbox.copyContextToWorker", /expected true or false, got "yes"/],
    [{ maxIteration: 5 }, "maxIteration", /Did you mean `maxIterations`/],
    [{ tools: { "bad name": () => 1 } }, "tools.bad name", /identifiers/],
    [{ tools: { llm_query: () => 1 } }, "tools.llm_query", /reserved/],
    [{ tools: { search: "not a function" } }, "tools.search", /expected a function/],
    [{ cache: "always" }, "cache", /"run", "instance" or false/],
    [{ onEvent: 5 }, "onEvent", /expected a function/],
  ])("%j is rejected, naming `%s`", (settings, argument, message) => {
    let thrown: unknown;
    try {
      make(settings)();
    } catch (error) {
      thrown = error;
    }
    expect(RLMInvalidArgumentError.isInstance(thrown)).toBe(true);
    expect((thrown as RLMInvalidArgumentError).argument).toBe(argument);
    expect((thrown as Error).message).toMatch(message);
  });

  it("fills in defaults", () => {
    const { settings } = createRLM({ model });
    expect(settings.subModel).toBe(model);
    expect(settings.maxIterations).toBe(20);
    expect(settings.sandbox.maxOutputChars).toBe(10_000);
    expect(settings.cache).toBe("run");
  });

  it("rejects a context too large for the sandbox's memory, saying how large it may be", async () => {
    const rlm = createRLM({ model, sandbox: { memoryLimitBytes: 16 * 1024 * 1024 } });
    const context = Array.from({ length: 200_000 }, (_, i) => `record ${i}`);
    const error = await rlm.run({ query: "q", context }).catch((e: unknown) => e);
    expect(RLMInvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/may take at most 8\.0 MB/);
  });

  it("accepts a context far larger than the memory limit when it is one big string (held outside QuickJS)", async () => {
    const rlm = createRLM({
      model: createScriptedModel({ replies: ["```js\nFINAL(String(context.length))\n```"] }),
      sandbox: { memoryLimitBytes: 16 * 1024 * 1024 },
    });
    const result = await rlm.run({ query: "q", context: "x".repeat(40_000_000) });
    expect(result.answer).toBe("40000000");
  });
});
