import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { createRLM, RLMModelError } from "@rlm/core";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { createScriptedModel } from "@rlm/core/test";
import { startOpenAITestServer } from "@rlm/openai-test-server";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { fromAISDK } from "./from-ai-sdk.js";

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

describe("fromAISDK", () => {
  it("sends system messages as instructions, maps text and usage", async () => {
    const seen: LanguageModelV4CallOptions[] = [];
    const mock = new MockLanguageModelV4({
      modelId: "mock-1",
      doGenerate: async (options) => {
        seen.push(options);
        return {
          content: [{ type: "text", text: "hello" }],
          finishReason: { unified: "stop", raw: "stop" },
          usage: usage(12, 3),
          warnings: [],
        };
      },
    });
    const model = fromAISDK(mock);
    expect(model.modelId).toBe("mock-provider:mock-1");
    const result = await model.generate({
      messages: [
        { role: "system", content: "rules" },
        { role: "user", content: "hi" },
        { role: "assistant", content: "yes?" },
        { role: "user", content: "go" },
      ],
    });
    expect(result).toEqual({ text: "hello", usage: { inputTokens: 12, outputTokens: 3 } });
    expect(seen[0]?.prompt[0]).toEqual({ role: "system", content: "rules" });
    expect(seen[0]?.prompt.slice(1).map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("passes the abort signal through", async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: (options) =>
        new Promise((_, reject) => {
          const signal = options.abortSignal;
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener("abort", () => reject(signal.reason));
        }),
    });
    const controller = new AbortController();
    const pending = fromAISDK(mock).generate({ messages: [{ role: "user", content: "x" }], signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });

  it("runs a whole RLM over HTTP with @ai-sdk/openai-compatible against the local server", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel() });
    try {
      const provider = createOpenAICompatible({
        name: "local",
        baseURL: server.url,
        apiKey: "test",
        includeUsage: true,
      });
      const model = fromAISDK(provider.chatModel("demo"));
      const context = generateHaystack({ chars: 2_000_000, needle: "The harbour master's name is Ingrid Solberg." });
      const result = await createRLM({ model }).run({ query: "What is the harbour master's name?", context });
      expect(result.answer).toContain("Ingrid Solberg");
      expect(result.usage.llmCalls).toBe(server.requests.length);
      // However large the context, every request the root sent stayed small.
      const rootRequests = server.requests.filter((r) => r.messages[0]?.role === "system");
      expect(Math.max(...rootRequests.map((r) => r.promptChars))).toBeLessThan(20_000);
    } finally {
      await server.close();
    }
  });

  it("surfaces HTTP errors: retries a 429, then fails with RLMModelError on a 401", async () => {
    const server = await startOpenAITestServer({
      model: createScriptedModel({ replies: ["```js\nFINAL('ok')\n```"] }),
    });
    try {
      const provider = createOpenAICompatible({ name: "local", baseURL: server.url, apiKey: "test" });
      const model = fromAISDK(provider.chatModel("m"));
      server.injectFaults({ type: "status", status: 429, retryAfterSeconds: 0 });
      expect((await createRLM({ model }).run({ query: "q" })).answer).toBe("ok");
      server.injectFaults({ type: "status", status: 401, message: "bad key" });
      const error = await createRLM({ model })
        .run({ query: "q" })
        .catch((e: unknown) => e);
      expect(RLMModelError.isInstance(error)).toBe(true);
      expect((error as RLMModelError).statusCode).toBe(401);
      expect((error as RLMModelError).message).toContain("bad key");
    } finally {
      await server.close();
    }
  });
});
