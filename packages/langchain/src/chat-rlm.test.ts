import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { tool } from "@langchain/core/tools";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { ChatOpenAI } from "@langchain/openai";
import { RLMAbortedError, RLMInvalidArgumentError, RLMModelError } from "@rlm/core";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { createScriptedModel } from "@rlm/core/test";
import { startOpenAITestServer } from "@rlm/openai-test-server";
import { createAgent } from "langchain";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ChatRLM } from "./chat-rlm.js";

const js = (code: string) => `\`\`\`js\n${code}\n\`\`\``;
const prompt = ChatPromptTemplate.fromMessages([
  ["system", "Answer from this document:\n{document}"],
  ["human", "{question}"],
]);

describe("ChatRLM in LCEL chains", () => {
  it("swaps into a chain in one line: the same chain runs with a plain chat model and with ChatRLM", async () => {
    const plain = prompt.pipe(new FakeListChatModel({ responses: ["a plain answer"] })).pipe(new StringOutputParser());
    expect(await plain.invoke({ document: "short doc", question: "q?" })).toBe("a plain answer");

    const root = new FakeListChatModel({
      responses: [
        js("const part = await llm_query('Summarise: ' + context); print(part)"),
        "FINAL(The document says hi.)",
      ],
    });
    const sub = new FakeListChatModel({ responses: ["it says hi"] });
    const withRLM = prompt.pipe(new ChatRLM({ model: root, subModel: sub })).pipe(new StringOutputParser());
    expect(await withRLM.invoke({ document: "Hi! ".repeat(1_000), question: "What does it say?" })).toBe(
      "The document says hi.",
    );
  });

  it("never sends a 1M-character document to the root model (ChatOpenAI over HTTP, demo model behind it)", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel() });
    try {
      const openai = new ChatOpenAI({
        model: "demo",
        apiKey: "test",
        configuration: { baseURL: server.url },
        maxRetries: 0,
      });
      const document = generateHaystack({ chars: 1_000_000, needle: "The museum's oldest exhibit is a Roman sandal." });
      const chain = prompt.pipe(new ChatRLM({ model: openai })).pipe(new StringOutputParser());
      const answer = await chain.invoke({ document, question: "What is the museum's oldest exhibit?" });
      expect(answer).toContain("Roman sandal");
      const rootRequests = server.requests.filter((r) => r.messages[0]?.role === "system");
      expect(rootRequests.length).toBeGreaterThan(0);
      expect(Math.max(...rootRequests.map((r) => r.promptChars))).toBeLessThan(20_000);
      expect(server.requests.length).toBeGreaterThan(rootRequests.length);
    } finally {
      await server.close();
    }
  });

  it("invoke returns usage_metadata and the RLM's metadata on the message; the context call option overrides", async () => {
    const model = createScriptedModel({
      replies: [js("FINAL(String(context.length))")],
      usage: { inputTokens: 100, outputTokens: 20 },
    });
    const chat = new ChatRLM({ model });
    const message = await chat.invoke([new HumanMessage("How many documents?")], { context: ["a", "b", "c"] });
    expect(message.content).toBe("3");
    expect(message.usage_metadata).toEqual({ input_tokens: 100, output_tokens: 20, total_tokens: 120 });
    const rlm = (message.response_metadata as { rlm: { stopReason: string; trajectory: { format: string } } }).rlm;
    expect(rlm.stopReason).toBe("final");
    expect(rlm.trajectory.format).toBe("rlm-trajectory");
  });

  it("batch and stream work through the chain", async () => {
    const question = (content: string) => ["one", "two", "three"].find((w) => content.includes(`\n${w}\n`));
    const model = createScriptedModel({
      replies: (r) => js(`FINAL("answer to ${question(r.messages[1]?.content ?? "")}")`),
    });
    const chain = prompt.pipe(new ChatRLM({ model })).pipe(new StringOutputParser());
    const answers = await chain.batch([
      { document: "d", question: "one" },
      { document: "d", question: "two" },
    ]);
    expect(answers).toEqual(["answer to one", "answer to two"]);
    const chunks: string[] = [];
    for await (const chunk of await chain.stream({ document: "d", question: "three" })) chunks.push(chunk);
    expect(chunks.join("")).toBe("answer to three");
  });

  it("streamEvents shows the RLM's steps as custom events and the inner model runs nested under the ChatRLM run", async () => {
    const root = new FakeListChatModel({
      responses: [js("const r = await llm_query_batched(['a', 'b']); print(r.join())"), "FINAL(done)"],
    });
    const sub = new FakeListChatModel({ responses: ["x"] });
    const chain = prompt.pipe(new ChatRLM({ model: root, subModel: sub }));
    const events = [];
    for await (const event of chain.streamEvents({ document: "d", question: "q" }, { version: "v2" }))
      events.push(event);
    const custom = events.filter((e) => e.event === "on_custom_event").map((e) => e.name);
    expect(custom).toEqual(
      expect.arrayContaining([
        "rlm:iteration-start",
        "rlm:code-executed",
        "rlm:subcall-start",
        "rlm:subcall-end",
        "rlm:final-answer",
      ]),
    );
    const inner = events.filter((e) => e.event === "on_chat_model_start" && e.name === "FakeListChatModel");
    expect(inner.length).toBe(4); // two root turns, two sub-calls
    expect(inner.filter((e) => e.tags?.includes("rlm:root"))).toHaveLength(2);
    expect(inner.filter((e) => e.tags?.includes("rlm:sub"))).toHaveLength(2);
    const code = events.find((e) => e.event === "on_custom_event" && e.name === "rlm:code-executed");
    expect((code?.data as { output?: string } | undefined)?.output).toBe("x,x\n");
  });

  it("inner model runs are children of the ChatRLM run in the callback tree", async () => {
    const starts: Array<{ name: string; runId: string; parentRunId?: string }> = [];
    const root = new FakeListChatModel({ responses: [js("print(await llm_query('x'))"), "FINAL(done)"] });
    const sub = new FakeListChatModel({ responses: ["x"] });
    await new ChatRLM({ model: root, subModel: sub }).invoke([new HumanMessage("q")], {
      callbacks: [
        {
          handleChatModelStart: async (
            llm: { id: string[] },
            _messages: unknown,
            runId: string,
            parentRunId?: string,
          ) => {
            starts.push({ name: llm.id.at(-1) as string, runId, ...(parentRunId ? { parentRunId } : {}) });
          },
        },
      ],
    });
    const outer = starts.find((s) => s.name === "ChatRLM");
    const inner = starts.filter((s) => s.name !== "ChatRLM");
    expect(inner).toHaveLength(3);
    expect(inner.every((s) => s.parentRunId === outer?.runId)).toBe(true);
  });

  it("callbacks receive the custom events too", async () => {
    const names: string[] = [];
    const model = createScriptedModel({ replies: [js("FINAL('ok')")] });
    await new ChatRLM({ model }).invoke([new HumanMessage("q")], {
      callbacks: [{ handleCustomEvent: async (name: string) => void names.push(name) }],
    });
    expect(names).toEqual([
      "rlm:run-start",
      "rlm:iteration-start",
      "rlm:code-executed",
      "rlm:final-answer",
      "rlm:run-finish",
    ]);
  });

  it("abort via the config signal cancels the run and the inner HTTP requests", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel(), latencyMs: 30_000 });
    try {
      const openai = new ChatOpenAI({
        model: "demo",
        apiKey: "test",
        configuration: { baseURL: server.url },
        maxRetries: 0,
      });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const error = await new ChatRLM({ model: openai })
        .invoke([new HumanMessage("q")], { signal: controller.signal })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(RLMAbortedError.isInstance(error) || (error as Error).name === "AbortError").toBe(true);
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it("an inner model's error surfaces as RLMModelError with the HTTP status", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel() });
    try {
      server.injectFaults({ type: "status", status: 401, message: "Incorrect API key" });
      const openai = new ChatOpenAI({
        model: "demo",
        apiKey: "bad",
        configuration: { baseURL: server.url },
        maxRetries: 0,
      });
      const error = await new ChatRLM({ model: openai })
        .invoke([new SystemMessage("s"), new HumanMessage("q")])
        .catch((e: unknown) => e);
      expect(RLMModelError.isInstance(error)).toBe(true);
      expect((error as RLMModelError).statusCode).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe("ChatRLM with createAgent", () => {
  it("bindTools refuses a bare tool definition it could not run, naming it", () => {
    const chat = new ChatRLM({ model: createScriptedModel({ replies: ["x"] }) });
    const definition = { type: "function", function: { name: "lookup", parameters: {} } };
    expect(() => chat.bindTools([definition as never])).toThrow(RLMInvalidArgumentError);
    expect(() => chat.bindTools([{ name: "lookup" } as never])).toThrow(/"lookup", which is not executable/);
  });

  it("bindTools turns LangChain tools into functions the RLM's code calls; the agent gets a final answer", async () => {
    const lookups: string[] = [];
    const lookup = tool(
      async ({ city }: { city: string }) => {
        lookups.push(city);
        return `${city}: 12 degrees`;
      },
      { name: "weather", description: "Weather in a city", schema: z.object({ city: z.string() }) },
    );
    const model = createScriptedModel({
      replies: [js("const w = await weather({ city: 'Oslo' }); FINAL('It is ' + w)")],
    });
    const agent = createAgent({ model: new ChatRLM({ model }), tools: [lookup] });
    const state = await agent.invoke({ messages: [new HumanMessage("Weather in Oslo?")] });
    const last = state.messages.at(-1);
    expect(last).toBeInstanceOf(AIMessage);
    expect(last?.text).toBe("It is Oslo: 12 degrees");
    expect(lookups).toEqual(["Oslo"]);
    expect(model.calls[0]?.messages[0]?.content).toContain("`weather`: Weather in a city");
  });
});
