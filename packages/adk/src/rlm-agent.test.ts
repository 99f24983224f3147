import {
  AgentTool,
  BaseLlm,
  type BaseLlmConnection,
  type Event,
  InMemoryRunner,
  isFinalResponse,
  LlmAgent,
  type LlmRequest,
  type LlmResponse,
  ParallelAgent,
  SequentialAgent,
  stringifyContent,
  Workflow,
} from "@google/adk";
import type { Content } from "@google/genai";
import { RLMAbortedError, RLMInvalidArgumentError, RLMModelError } from "@rlm/core";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { createScriptedModel } from "@rlm/core/test";
import { describe, expect, it } from "vitest";
import { fromADK } from "./from-adk.js";
import { RLMAgent } from "./rlm-agent.js";

const js = (code: string) => `\`\`\`js\n${code}\n\`\`\``;
type Reply = {
  text?: string;
  parts?: Content["parts"];
  usage?: { promptTokenCount: number; candidatesTokenCount: number };
};

/** ADK ships no mock model: a scripted BaseLlm that records its requests. */
class ScriptedLlm extends BaseLlm {
  readonly requests: LlmRequest[] = [];
  constructor(private readonly reply: (request: LlmRequest, index: number) => Reply) {
    super({ model: "scripted-llm" });
  }
  async *generateContentAsync(
    request: LlmRequest,
    _stream?: boolean,
    signal?: AbortSignal,
  ): AsyncGenerator<LlmResponse, void> {
    this.requests.push(request);
    signal?.throwIfAborted();
    const r = this.reply(request, this.requests.length - 1);
    yield {
      content: { role: "model", parts: r.parts ?? [{ text: r.text ?? "" }] },
      turnComplete: true,
      ...(r.usage ? { usageMetadata: r.usage } : {}),
    };
  }
  async connect(): Promise<BaseLlmConnection> {
    throw new Error("no live mode");
  }
}

async function run(
  agent: ConstructorParameters<typeof InMemoryRunner>[0]["agent"],
  text: string,
  state: Record<string, unknown> = {},
  abortSignal?: AbortSignal,
) {
  const runner = new InMemoryRunner({ agent, appName: "app" });
  const session = await runner.sessionService.createSession({ appName: "app", userId: "u", state });
  const events: Event[] = [];
  for await (const e of runner.runAsync({
    userId: "u",
    sessionId: session.id,
    newMessage: { role: "user", parts: [{ text }] },
    ...(abortSignal ? { abortSignal } : {}),
  })) {
    events.push(e);
  }
  const after = await runner.sessionService.getSession({ appName: "app", userId: "u", sessionId: session.id });
  return { events, state: after?.state ?? {} };
}

const documentContext = generateHaystack({
  chars: 300_000,
  needle: "The observatory's telescope mirror is 3.6 metres wide.",
  seed: 12,
});

describe("RLMAgent", () => {
  it("runs standalone under InMemoryRunner: thought events while it works, then the answer as the last event with a stateDelta", async () => {
    const agent = new RLMAgent({ name: "reader", model: createDemoModel(), outputKey: "finding" });
    const { events, state } = await run(agent, "How wide is the observatory's telescope mirror?", {
      rlm_context: documentContext,
    });
    const last = events.at(-1) as Event;
    expect(isFinalResponse(last)).toBe(true);
    expect(stringifyContent(last)).toContain("3.6 metres");
    expect(state.finding).toContain("3.6 metres");
    const partial = events.slice(0, -1);
    expect(partial.length).toBeGreaterThan(2);
    expect(partial.every((e) => e.partial && e.author === "reader" && e.content?.parts?.[0]?.thought === true)).toBe(
      true,
    );
    expect(partial.map((e) => (e.customMetadata?.rlm as { type?: string } | undefined)?.type)).toEqual(
      expect.arrayContaining(["iteration-start", "code-executed", "subcall-end"]),
    );
  });

  it("uses an ADK BaseLlm for the root and sub models; the context never reaches the root's prompt", async () => {
    const llm = new ScriptedLlm((request) => {
      const system = String(request.config?.systemInstruction ?? "");
      if (!system.includes("You answer a query")) return { text: "sub answer" };
      const turn = request.contents.filter((c) => c.role === "model").length;
      return {
        text: turn === 0 ? js("const a = await llm_query(context.slice(0, 50)); print(a)") : "FINAL(done via adk)",
      };
    });
    const agent = new RLMAgent({ name: "rlm", model: llm });
    const { state } = await run(agent, "Summarise the context", { rlm_context: documentContext });
    expect(state.rlm_answer).toBe("done via adk");
    const rootRequests = llm.requests.filter((r) =>
      String(r.config?.systemInstruction ?? "").includes("You answer a query"),
    );
    const rootChars = rootRequests.map((r) => JSON.stringify(r.contents).length);
    expect(Math.max(...rootChars)).toBeLessThan(10_000);
    expect(llm.requests).toHaveLength(3);
  });

  it("composes in a SequentialAgent: the next agent reads {outputKey} from state", async () => {
    const writer = new ScriptedLlm((request) => ({
      text: `BRIEF: ${String(request.config?.systemInstruction ?? "").match(/Finding: (.*)/)?.[1]}`,
    }));
    const pipeline = new SequentialAgent({
      name: "pipeline",
      subAgents: [
        new RLMAgent({ name: "reader", model: createDemoModel(), outputKey: "finding" }),
        new LlmAgent({ name: "writer", model: writer, instruction: "Finding: {finding}" }),
      ],
    });
    const { events, state } = await run(pipeline, "How wide is the observatory's telescope mirror?", {
      rlm_context: documentContext,
    });
    expect(state.finding).toContain("3.6 metres");
    expect(stringifyContent(events.at(-1) as Event)).toMatch(/^BRIEF: .*3\.6 metres/);
  });

  it("composes in a ParallelAgent: each branch writes its own key, events carry the branch", async () => {
    const a = new RLMAgent({
      name: "count_a",
      model: createScriptedModel({ replies: [js("FINAL(String(context.length))")] }),
      outputKey: "a",
    });
    const b = new RLMAgent({
      name: "count_b",
      model: createScriptedModel({ replies: [js("FINAL('b:' + context.length)")] }),
      outputKey: "b",
    });
    const { events, state } = await run(new ParallelAgent({ name: "fanout", subAgents: [a, b] }), "count", {
      rlm_context: "abcd",
    });
    expect(state.a).toBe("4");
    expect(state.b).toBe("b:4");
    expect(new Set(events.filter((e) => e.author === "count_a").map((e) => e.branch))).toEqual(
      new Set(["fanout.count_a"]),
    );
  });

  it("composes in an ADK 2 Workflow", async () => {
    const writer = new ScriptedLlm((request) => ({
      text: `wrote about ${String(request.config?.systemInstruction ?? "").match(/about (.*)/)?.[1]}`,
    }));
    const workflow = new Workflow({
      name: "wf",
      edges: [
        [
          "START",
          new RLMAgent({
            name: "reader",
            model: createScriptedModel({ replies: [js("FINAL('the context')")] }),
            outputKey: "topic",
          }),
          new LlmAgent({ name: "writer", model: writer, instruction: "Write about {topic}" }),
        ],
      ],
    });
    const { events, state } = await run(workflow, "go", { rlm_context: "x" });
    expect(state.topic).toBe("the context");
    expect(events.some((e) => stringifyContent(e) === "wrote about the context")).toBe(true);
  });

  it("works as an AgentTool called by an LlmAgent", async () => {
    const orchestrator = new ScriptedLlm((request, i) =>
      i === 0
        ? {
            parts: [
              {
                functionCall: {
                  id: "call-1",
                  name: "reader",
                  args: { request: "How wide is the observatory's telescope mirror?" },
                },
              },
            ],
          }
        : { text: `Tool said: ${JSON.stringify(request.contents.at(-1)?.parts?.[0]?.functionResponse?.response)}` },
    );
    const agent = new LlmAgent({
      name: "boss",
      model: orchestrator,
      instruction: "Use the reader tool.",
      tools: [
        new AgentTool({
          agent: new RLMAgent({
            name: "reader",
            description: "Answers questions over the documents",
            model: createDemoModel(),
          }),
        }),
      ],
    });
    const { events } = await run(agent, "mirror?", { rlm_context: documentContext });
    expect(stringifyContent(events.at(-1) as Event)).toMatch(/Tool said: .*3\.6 metres/);
  });

  it("takes the context from artifacts, or from earlier events, when the state has none", async () => {
    const agent = new RLMAgent({
      name: "rlm",
      model: createScriptedModel({ replies: [js("FINAL(context.map(d => d.name + '=' + d.text.length).join(','))")] }),
      contextArtifacts: ["a.txt", "b.txt"],
    });
    const runner = new InMemoryRunner({ agent, appName: "app" });
    const session = await runner.sessionService.createSession({ appName: "app", userId: "u" });
    const key = { appName: "app", userId: "u", sessionId: session.id };
    await runner.artifactService?.saveArtifact({ ...key, filename: "a.txt", artifact: { text: "alpha" } });
    await runner.artifactService?.saveArtifact({
      ...key,
      filename: "b.txt",
      artifact: { inlineData: { mimeType: "text/plain", data: Buffer.from("beta!").toString("base64") } },
    });
    for await (const _ of runner.runAsync({
      userId: "u",
      sessionId: session.id,
      newMessage: { role: "user", parts: [{ text: "sizes?" }] },
    })) {
      // drain
    }
    const after = await runner.sessionService.getSession(key);
    expect(after?.state.rlm_answer).toBe("a.txt=5,b.txt=5");

    const fromEvents = new RLMAgent({
      name: "rlm",
      model: createScriptedModel({ replies: [js("FINAL(JSON.stringify(context))")] }),
    });
    const { state } = await run(fromEvents, "what was said?");
    expect(JSON.parse(state.rlm_answer as string)).toEqual([]);
  });

  it("says clearly when there is no query", async () => {
    const agent = new RLMAgent({ name: "rlm", model: createScriptedModel({ replies: ["x"] }) });
    const error = await run(agent, "   ").catch((e: unknown) => e);
    expect(RLMInvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('RLMAgent "rlm" has no query');
  });

  it("honours the abort signal and surfaces model errors", async () => {
    const slow = new RLMAgent({ name: "slow", model: createScriptedModel({ replies: ["x"], latencyMs: 10_000 }) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(run(slow, "q", {}, controller.signal)).rejects.toSatisfy(
      (e: unknown) => RLMAbortedError.isInstance(e) || (e as Error).name === "AbortError",
    );

    const failing = new ScriptedLlm(() => ({ text: "" }));
    failing.generateContentAsync = async function* () {
      yield { errorCode: "PERMISSION_DENIED", errorMessage: "API key not valid" };
    };
    const error = await run(new RLMAgent({ name: "bad", model: failing }), "q").catch((e: unknown) => e);
    expect(RLMModelError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("API key not valid");
  });
});

describe("fromADK", () => {
  it("maps system messages to systemInstruction, text and usage back", async () => {
    const llm = new ScriptedLlm(() => ({ text: "hi", usage: { promptTokenCount: 9, candidatesTokenCount: 2 } }));
    const model = fromADK(llm);
    expect(model.modelId).toBe("scripted-llm");
    const result = await model.generate({
      messages: [
        { role: "system", content: "rules" },
        { role: "user", content: "hello" },
        { role: "assistant", content: "yo" },
      ],
    });
    expect(result).toEqual({ text: "hi", usage: { inputTokens: 9, outputTokens: 2 } });
    expect(llm.requests[0]?.config?.systemInstruction).toBe("rules");
    expect(llm.requests[0]?.contents.map((c) => c.role)).toEqual(["user", "model"]);
  });
});
