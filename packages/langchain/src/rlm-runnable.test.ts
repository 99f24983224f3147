import { RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { ChatOpenAI } from "@langchain/openai";
import type { RLMResult } from "@rlm/core";
import { createScriptedModel } from "@rlm/core/test";
import { startOpenAITestServer } from "@rlm/openai-test-server";
import { describe, expect, it } from "vitest";
import { fromLangChain } from "./from-langchain.js";
import { RLMRunnable } from "./rlm-runnable.js";

const js = (code: string) => `\`\`\`js\n${code}\n\`\`\``;

describe("RLMRunnable", () => {
  it("takes { query, context } and outputs the answer; withFullResult gives the whole result", async () => {
    const model = createScriptedModel({
      replies: [js("FINAL(context.filter(d => d.includes('cat')).length + ' cats')")],
    });
    const rlm = new RLMRunnable({ model });
    const input = { query: "How many mention cats?", context: ["a cat", "a dog", "two cats"] };
    expect(await rlm.invoke(input)).toBe("2 cats");
    const full: RLMResult = await rlm.withFullResult().invoke(input);
    expect(full.stopReason).toBe("final");
    expect(full.trajectory.root.context.parts).toBe(3);
  });

  it("batch, stream and pipe work like any Runnable", async () => {
    const model = createScriptedModel({ replies: (_r) => js(`FINAL(String(context.length))`) });
    const rlm = new RLMRunnable({ model });
    expect(
      await rlm.batch([
        { query: "q", context: "ab" },
        { query: "q", context: "abcd" },
      ]),
    ).toEqual(["2", "4"]);
    const chunks: string[] = [];
    for await (const chunk of await rlm.stream({ query: "q", context: "abc" })) chunks.push(chunk);
    expect(chunks).toEqual(["3"]);
    const chain = RunnableLambda.from((text: string) => ({ query: "length?", context: text })).pipe(rlm);
    expect(await chain.invoke("hello")).toBe("5");
  });

  it("streamEvents (v2): a chain run, custom events for the steps, inner model runs nested", async () => {
    const root = new FakeListChatModel({ responses: [js("print(await llm_query('x'))"), "FINAL(ok)"] });
    const sub = new FakeListChatModel({ responses: ["sub says hi"] });
    const rlm = new RLMRunnable({ model: root, subModel: sub });
    const events = [];
    for await (const event of rlm.streamEvents({ query: "q", context: "c" }, { version: "v2" })) events.push(event);
    expect(events[0]?.event).toBe("on_chain_start");
    expect(events[0]?.name).toBe("RLMRunnable");
    expect(events.at(-1)?.event).toBe("on_chain_end");
    expect(events.at(-1)?.data.output).toBe("ok");
    const custom = events.filter((e) => e.event === "on_custom_event");
    expect(custom.map((e) => e.name)).toContain("rlm:code-executed");
    expect((custom.find((e) => e.name === "rlm:code-executed")?.data as { output?: string } | undefined)?.output).toBe(
      "sub says hi\n",
    );
    expect(events.filter((e) => e.event === "on_chat_model_start")).toHaveLength(3);
  });

  it("the config signal aborts the run", async () => {
    const model = createScriptedModel({ replies: ["x"], latencyMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(new RLMRunnable({ model }).invoke("q", { signal: controller.signal })).rejects.toThrow(/aborted/i);
    expect(model.calls[0]?.aborted).toBe(true);
  });
});

describe("fromLangChain", () => {
  it("adapts a chat model: messages in, text and usage out", async () => {
    const chat = new FakeListChatModel({ responses: ["pong"] });
    const model = fromLangChain(chat, { modelId: "fake" });
    expect(model.modelId).toBe("fake");
    const result = await model.generate({
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: "ping" },
      ],
    });
    expect(result.text).toBe("pong");
  });

  it("maps usage_metadata and passes the abort signal to ChatOpenAI over HTTP", async () => {
    const scripted = createScriptedModel({ replies: ["over http"], usage: { inputTokens: 42, outputTokens: 7 } });
    const server = await startOpenAITestServer({ model: scripted });
    try {
      const model = fromLangChain(
        new ChatOpenAI({ model: "m", apiKey: "k", configuration: { baseURL: server.url }, maxRetries: 0 }),
      );
      expect(model.modelId).toBe("m");
      expect(await model.generate({ messages: [{ role: "user", content: "hi" }] })).toEqual({
        text: "over http",
        usage: { inputTokens: 42, outputTokens: 7 },
      });
      const pending = model.generate({
        messages: [{ role: "user", content: "hi" }],
        signal: AbortSignal.abort(new Error("stopped")),
      });
      await expect(pending).rejects.toThrow(/stopped|abort/i);
    } finally {
      await server.close();
    }
  });
});
