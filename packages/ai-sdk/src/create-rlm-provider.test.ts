import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, type LanguageModelV4CallOptions, NoSuchModelError } from "@ai-sdk/provider";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { startOpenAITestServer } from "@rlm/openai-test-server";
import { generateObject, generateText, jsonSchema, streamText } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { generateText as generateTextV6, streamText as streamTextV6 } from "ai-v6";
import { describe, expect, it } from "vitest";

/** ai 6 types its models with @ai-sdk/provider 3; the V3 shapes match at run time (see the README). */
type ModelV6 = Parameters<typeof generateTextV6>[0]["model"];

import { createRLMProvider } from "./create-rlm-provider.js";

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});
const promptText = (options: LanguageModelV4CallOptions) =>
  options.prompt
    .map((m) =>
      typeof m.content === "string" ? m.content : m.content.map((p) => ("text" in p ? p.text : "")).join(""),
    )
    .join("\n");

/** An AI SDK mock that plays the RLM's root (code) and sub (answers) roles from a script. */
function scriptedMock(reply: (prompt: string, options: LanguageModelV4CallOptions) => string) {
  const prompts: string[] = [];
  const model = new MockLanguageModelV4({
    modelId: "scripted",
    doGenerate: async (options) => {
      const text = promptText(options);
      prompts.push(text);
      return {
        content: [{ type: "text", text: reply(text, options) }],
        finishReason: { unified: "stop", raw: "stop" },
        usage: usage(10, 5),
        warnings: [],
      };
    },
  });
  return { model, prompts };
}

const rootThenSub = (code: string, subAnswer: string) =>
  scriptedMock((prompt) => {
    if (!prompt.includes("You answer a query about a context")) return subAnswer;
    return prompt.includes("Output") ? "```js\nFINAL(answer)\n```" : `\`\`\`js\n${code}\n\`\`\``;
  });

describe("createRLMProvider with generateText and streamText (ai 7)", () => {
  it("generateText runs an RLM: answer as text, steps as reasoning, usage summed, trajectory in providerMetadata", async () => {
    const { model } = rootThenSub(
      "const answer = await llm_query('who? ' + context.slice(0, 20)); print(answer)",
      "Ada Lovelace",
    );
    const rlm = createRLMProvider({ model });
    const result = await generateText({
      model: rlm("rlm-1"),
      messages: [
        {
          role: "user",
          content: [
            {
              type: "file",
              mediaType: "text/plain",
              filename: "notes.txt",
              data: new TextEncoder().encode("Notes: the first programmer."),
            },
          ],
        },
        { role: "user", content: "Who was the first programmer?" },
      ],
    });
    expect(result.text).toBe("Ada Lovelace");
    expect(result.reasoningText).toContain("llm_query");
    expect(result.finishReason).toBe("stop");
    expect(result.usage.inputTokens).toBe(30);
    const meta = result.providerMetadata?.rlm as {
      stopReason: string;
      trajectory: { root: { context: { type: string } } };
    };
    expect(meta.stopReason).toBe("final");
    expect(meta.trajectory.root.context.type).toBe("string");
  });

  it("streamText streams the steps as reasoning while they happen, then the answer, then finish", async () => {
    const { model } = rootThenSub("const answer = (await llm_query_batched(['a', 'b'])).join('+')", "part");
    const rlm = createRLMProvider({ model });
    const result = streamText({ model: rlm(), prompt: "Combine the parts." });
    const types: string[] = [];
    for await (const part of result.fullStream) types.push(part.type);
    const firstReasoning = types.indexOf("reasoning-delta");
    const firstText = types.indexOf("text-delta");
    expect(firstReasoning).toBeGreaterThan(-1);
    expect(firstReasoning).toBeLessThan(firstText);
    expect(types.lastIndexOf("reasoning-delta")).toBeLessThan(firstText);
    expect(types.at(-1)).toBe("finish");
    expect(await result.text).toBe("part+part");
    expect(await result.reasoningText).toMatch(/Iteration 1[\s\S]*Sub-call/);
  });

  it("keeps the root's requests bounded for a 1M-character prompt (demo model over the local OpenAI server)", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel() });
    try {
      const inner = createOpenAICompatible({
        name: "local",
        baseURL: server.url,
        apiKey: "k",
        includeUsage: true,
      }).chatModel("demo");
      const rlm = createRLMProvider({ model: inner });
      const document = generateHaystack({
        chars: 1_000_000,
        needle: "The bakery's sourdough starter is named Clint Yeastwood.",
      });
      const result = await generateText({
        model: rlm(),
        instructions: `Reference document:\n${document}`,
        prompt: "What is the bakery's sourdough starter named?",
      });
      expect(result.text).toContain("Clint Yeastwood");
      const rootRequests = server.requests.filter((r) => r.messages[0]?.role === "system");
      expect(rootRequests.length).toBeGreaterThan(0);
      expect(Math.max(...rootRequests.map((r) => r.promptChars))).toBeLessThan(20_000);
    } finally {
      await server.close();
    }
  });

  it("providerOptions.rlm.context supplies the context directly", async () => {
    const { model, prompts } = rootThenSub("const answer = String(context.length)", "");
    const result = await generateText({
      model: createRLMProvider({ model })(),
      prompt: "How many items?",
      providerOptions: { rlm: { context: ["a", "b", "c"] } },
    });
    expect(result.text).toBe("3");
    expect(prompts[0]).toContain("How many items?");
    expect(prompts[0]).toContain("`context` is an array of 3 items");
  });

  it("warns about settings it ignores", async () => {
    const { model } = rootThenSub("const answer = 'ok'", "");
    const result = await generateText({
      model: createRLMProvider({ model })(),
      prompt: "q",
      temperature: 0.3,
      tools: { search: { description: "search", inputSchema: jsonSchema({ type: "object", properties: {} }) } },
    });
    const features = result.warnings?.map((w) => (w.type === "unsupported" ? w.feature : w.type));
    expect(features).toEqual(expect.arrayContaining(["temperature", "tools"]));
  });

  it("abortSignal cancels the run and every inner request", async () => {
    const signals: AbortSignal[] = [];
    const model = new MockLanguageModelV4({
      doGenerate: async (options) => {
        if (options.abortSignal) signals.push(options.abortSignal);
        if (promptText(options).includes("You answer a query")) {
          return {
            content: [{ type: "text", text: "```js\nawait llm_query_batched(['x', 'y', 'z'])\n```" }],
            finishReason: { unified: "stop", raw: "stop" },
            usage: usage(1, 1),
            warnings: [],
          };
        }
        return new Promise((_, reject) =>
          options.abortSignal?.addEventListener("abort", () => reject(options.abortSignal?.reason)),
        );
      },
    });
    const controller = new AbortController();
    const pending = generateText({
      model: createRLMProvider({ model })(),
      prompt: "q",
      abortSignal: controller.signal,
      maxRetries: 0,
    });
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    await expect(pending).rejects.toThrow();
    // The root's request had finished; the three sub-calls in flight were all cancelled.
    expect(signals.length).toBe(4);
    expect(signals.slice(1).every((s) => s.aborted)).toBe(true);
  });

  it("an inner model's HTTP error surfaces as the AI SDK's APICallError", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel() });
    try {
      server.injectFaults({ type: "status", status: 401, message: "invalid api key" });
      const inner = createOpenAICompatible({ name: "local", baseURL: server.url, apiKey: "bad" }).chatModel("demo");
      const error = await generateText({
        model: createRLMProvider({ model: inner })(),
        prompt: "q",
        maxRetries: 0,
      }).catch((e: unknown) => e);
      expect(APICallError.isInstance(error)).toBe(true);
      expect((error as APICallError).statusCode).toBe(401);
    } finally {
      await server.close();
    }
  });

  it("generateObject gets a JSON value matching the schema", async () => {
    const { model, prompts } = rootThenSub("const answer = { name: 'Ada', year: 1843 }", "");
    const result = await generateObject({
      model: createRLMProvider({ model })(),
      schema: jsonSchema<{ name: string; year: number }>({
        type: "object",
        properties: { name: { type: "string" }, year: { type: "number" } },
        required: ["name", "year"],
      }),
      prompt: "Who and when?",
    });
    expect(result.object).toEqual({ name: "Ada", year: 1843 });
    expect(prompts[0]).toContain("JSON schema");
  });

  it("is a provider in the AI SDK's shape", () => {
    const { model } = rootThenSub("", "");
    const rlm = createRLMProvider({ model });
    expect(rlm.languageModel("x").specificationVersion).toBe("v4");
    expect(rlm("x", { maxIterations: 3 }).modelId).toBe("x");
    expect(() => rlm.embeddingModel("e")).toThrow(NoSuchModelError);
    expect(() => rlm.imageModel("i")).toThrow(NoSuchModelError);
  });
});

describe("ai 6 compatibility (LanguageModelV3)", () => {
  it("generateText and streamText of ai 6 run the RLM through languageModelV3", async () => {
    const { model } = rootThenSub("const answer = 'from v3'", "");
    const rlm = createRLMProvider({ model });
    const generated = await generateTextV6({ model: rlm.languageModelV3("rlm") as unknown as ModelV6, prompt: "q" });
    expect(generated.text).toBe("from v3");
    const streamed = streamTextV6({ model: rlm.languageModelV3("rlm") as unknown as ModelV6, prompt: "q" });
    expect(await streamed.text).toBe("from v3");
    expect(await streamed.reasoningText).toContain("Iteration 1");
  });

  it("ai 6 rejects the V4 model, which is why languageModelV3 exists", async () => {
    const { model } = rootThenSub("const answer = 'x'", "");
    await expect(generateTextV6({ model: createRLMProvider({ model })() as never, prompt: "q" })).rejects.toThrow(
      /version|v4|support/i,
    );
  });
});
