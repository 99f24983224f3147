import { Settings } from "@llamaindex/core/global";
import {
  type ChatResponse,
  type LLMChatParamsNonStreaming,
  type LLMMetadata,
  ToolCallLLM,
} from "@llamaindex/core/llms";
import { Document, type NodeWithScore } from "@llamaindex/core/schema";
import { extractText } from "@llamaindex/core/utils";
import { OpenAI } from "@llamaindex/openai";
import { agent } from "@llamaindex/workflow";
import { RLMAbortedError, RLMInvalidArgumentError, RLMModelError } from "@rlm/core";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { startOpenAITestServer } from "@rlm/openai-test-server";
import { QueryEngineTool } from "llamaindex";
import { afterEach, describe, expect, it } from "vitest";
import { fromLlamaIndex } from "./from-llamaindex.js";
import { RLMQueryEngine } from "./rlm-query-engine.js";

const js = (code: string) => `\`\`\`js\n${code}\n\`\`\``;

/** A scripted LlamaIndex LLM (ToolCallLLM, so agents accept it): each call gets the next reply or a function's. */
class ScriptedLLM extends ToolCallLLM {
  supportToolCall = true;
  metadata: LLMMetadata = {
    model: "scripted",
    temperature: 0,
    topP: 1,
    contextWindow: 100_000,
    tokenizer: undefined,
    structuredOutput: false,
  };
  readonly calls: LLMChatParamsNonStreaming[] = [];
  constructor(
    private readonly reply: (
      params: LLMChatParamsNonStreaming,
      index: number,
    ) => Partial<ChatResponse["message"]> | string | Promise<string>,
  ) {
    super();
  }
  // biome-ignore lint/suspicious/noExplicitAny: the abstract overloads of chat() are only satisfiable with a loose signature.
  async chat(params: any): Promise<any> {
    this.calls.push(params);
    const out = await this.reply(params, this.calls.length - 1);
    const message =
      typeof out === "string" ? { role: "assistant", content: out } : { role: "assistant", content: "", ...out };
    if (params.stream) {
      return (async function* () {
        yield { delta: message.content, raw: null, ...(message.options ? { options: message.options } : {}) };
      })();
    }
    return { message, raw: { usage: { prompt_tokens: 11, completion_tokens: 3 } } };
  }
}

const docs = [
  new Document({ id_: "tea", text: "Green tea is steamed. Black tea is oxidised.", metadata: { file: "tea.txt" } }),
  new Document({ id_: "coffee", text: "Espresso is brewed under pressure.", metadata: { file: "coffee.txt" } }),
  new Document({
    id_: "cocoa",
    text: "Cocoa beans are fermented, dried and roasted.",
    metadata: { file: "cocoa.txt" },
  }),
];

afterEach(() => {
  // @ts-expect-error: resetting the singleton between tests
  Settings.llm = undefined;
});

describe("RLMQueryEngine", () => {
  it("answers over documents held as { id, text, metadata }; sourceNodes are only the nodes the run read", async () => {
    const llm = new ScriptedLLM((_params, i) =>
      i === 0
        ? js(
            "print(context.map(d => d.id + ':' + d.metadata.file).join(' '))\nconst hit = context.find(d => d.text.includes('oxidised'));\nconst answer = hit.text.slice(22);\nFINAL(answer)",
          )
        : "unused",
    );
    const engine = new RLMQueryEngine({ documents: docs, llm });
    const response = await engine.query({ query: "Which tea is oxidised?" });
    expect(response.message.content).toBe("Black tea is oxidised.");
    const sources = response.sourceNodes ?? [];
    // `includes` ran on tea and coffee before the find stopped; only tea was read (a hit and a slice).
    expect(sources.map((s) => s.node.id_)).toEqual(["tea"]);
    expect(sources[0]?.score).toBe(1);
    // The root model never saw the documents' text.
    const rootPrompt = llm.calls[0]?.messages.map((m) => extractText(m.content)).join("\n") ?? "";
    expect(rootPrompt).not.toContain("steamed");
    expect(rootPrompt).toContain("array of 3 items");
  });

  it("scores several read nodes by their share of what the run read", async () => {
    const llm = new ScriptedLLM(() =>
      js("const a = context[0].text.slice(0, 30); const b = context[2].text.slice(0, 10);\nFINAL(a + b)"),
    );
    const response = await new RLMQueryEngine({ documents: docs, llm }).query({ query: "q" });
    const scores = Object.fromEntries((response.sourceNodes ?? []).map((s: NodeWithScore) => [s.node.id_, s.score]));
    expect(scores).toEqual({ tea: 0.75, cocoa: 0.25 });
  });

  it("works with OpenAI from @llamaindex/openai over HTTP (demo model behind the local server)", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel() });
    try {
      const documents = Array.from(
        { length: 12 },
        (_, i) =>
          new Document({
            id_: `report-${i}`,
            text: generateHaystack({
              chars: 40_000,
              needle: i === 7 ? "The river ferry was renamed Aurora in 1952." : "Nothing new this week.",
              seed: i,
            }),
          }),
      );
      Settings.llm = new OpenAI({ model: "demo", apiKey: "test", baseURL: server.url, maxRetries: 0 });
      const response = await new RLMQueryEngine({ documents }).query({ query: "What was the river ferry renamed?" });
      expect(response.message.content).toContain("Aurora");
      expect(response.sourceNodes?.[0]?.node.id_).toBe("report-7");
      expect(server.requests.length).toBeGreaterThanOrEqual(3);
    } finally {
      await server.close();
    }
  });

  it("streams the answer with the source nodes on every chunk", async () => {
    const llm = new ScriptedLLM(() => js("FINAL(context[1].text)"));
    const stream = await new RLMQueryEngine({ documents: docs, llm }).query({ query: "q", stream: true });
    let text = "";
    for await (const chunk of stream) {
      text += chunk.delta;
      expect(chunk.sourceNodes?.map((s) => s.node.id_)).toEqual(["coffee"]);
    }
    expect(text).toBe("Espresso is brewed under pressure.");
  });

  it("fires LlamaIndex's query events and an rlm-step event per RLM step", async () => {
    const seen: string[] = [];
    const onStart = () => seen.push("query-start");
    const onEnd = () => seen.push("query-end");
    const onStep = (e: { detail: { type: string } }) => seen.push(`rlm-step:${e.detail.type}`);
    Settings.callbackManager.on("query-start", onStart);
    Settings.callbackManager.on("query-end", onEnd);
    Settings.callbackManager.on("rlm-step", onStep);
    try {
      const llm = new ScriptedLLM(() => js("FINAL('done')"));
      await new RLMQueryEngine({ documents: docs, llm }).query({ query: "q" });
      await new Promise((r) => setTimeout(r, 10));
      expect(seen[0]).toBe("query-start");
      expect(seen).toContain("rlm-step:code-executed");
      expect(seen).toContain("query-end");
    } finally {
      Settings.callbackManager.off("query-start", onStart);
      Settings.callbackManager.off("query-end", onEnd);
      Settings.callbackManager.off("rlm-step", onStep);
    }
  });

  it("narrows with a retriever first: only its nodes reach the sandbox", async () => {
    const llm = new ScriptedLLM(() => js("FINAL(context.map(d => d.id).join(','))"));
    const retriever = {
      retrieve: async () => [docs[2], docs[0]].map((node) => ({ node: node as Document, score: 0.5 })),
    };
    const response = await new RLMQueryEngine({ retriever, llm }).query({ query: "q" });
    expect(response.message.content).toBe("cocoa,tea");
  });

  it("works as a QueryEngineTool inside an agent from @llamaindex/workflow", async () => {
    const engineLLM = new ScriptedLLM(() => js("FINAL(context.find(d => d.id === 'cocoa').text)"));
    const tool = new QueryEngineTool({
      queryEngine: new RLMQueryEngine({ documents: docs, llm: engineLLM }),
      metadata: { name: "drinks_docs", description: "Answers questions about the drinks documents" },
    });
    const agentLLM = new ScriptedLLM((params) => {
      const last = params.messages.at(-1);
      const toolResult = (last?.options as { toolResult?: { result: unknown } } | undefined)?.toolResult;
      if (toolResult) return `The tool says: ${String(toolResult.result)}`;
      return {
        content: "",
        options: { toolCall: [{ id: "call-1", name: "drinks_docs", input: { query: "How is cocoa made?" } }] },
      };
    });
    const result = await agent({ tools: [tool], llm: agentLLM }).run("How is cocoa made?");
    expect(String(result.data.result)).toContain("Cocoa beans are fermented");
  });

  it("aborts with a signal, and says clearly when no LLM is configured", async () => {
    const slow = new ScriptedLLM(
      () => new Promise<string>((resolve) => setTimeout(() => resolve(js("FINAL('late')")), 5_000)),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await new RLMQueryEngine({ documents: docs, llm: slow })
      .query({ query: "q", signal: controller.signal })
      .catch((e: unknown) => e);
    expect(RLMAbortedError.isInstance(error)).toBe(true);

    const missing = await new RLMQueryEngine({ documents: docs }).query({ query: "q" }).catch((e: unknown) => e);
    expect(RLMInvalidArgumentError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toContain("Settings.llm");
  });

  it("says what is missing when given nothing to read", () => {
    expect(() => new RLMQueryEngine({ llm: new ScriptedLLM(() => "x") })).toThrow(RLMInvalidArgumentError);
    expect(() => new RLMQueryEngine({ llm: new ScriptedLLM(() => "x") })).toThrow(/`documents`.*`retriever`.*`index`/);
  });

  it("an LLM that fails surfaces as RLMModelError", async () => {
    const failing = new ScriptedLLM(() => {
      throw Object.assign(new Error("quota exceeded"), { status: 403 });
    });
    const error = await new RLMQueryEngine({ documents: docs, llm: failing })
      .query({ query: "q" })
      .catch((e: unknown) => e);
    expect(RLMModelError.isInstance(error)).toBe(true);
    expect((error as RLMModelError).statusCode).toBe(403);
  });
});

describe("fromLlamaIndex", () => {
  it("maps text and OpenAI-style usage", async () => {
    const model = fromLlamaIndex(new ScriptedLLM(() => "hello"));
    expect(model.modelId).toBe("scripted");
    expect(await model.generate({ messages: [{ role: "user", content: "hi" }] })).toEqual({
      text: "hello",
      usage: { inputTokens: 11, outputTokens: 3 },
    });
  });
});
