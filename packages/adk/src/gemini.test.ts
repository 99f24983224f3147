/**
 * ADK's real `Gemini` class, over HTTP, against a local server speaking enough of the Gemini API (the offline demo
 * model answers behind it). `GOOGLE_GEMINI_BASE_URL` points the `@google/genai` client at it.
 */
import { Gemini, InMemoryRunner, isFinalResponse, stringifyContent } from "@google/adk";
import { RLMModelError } from "@rlm/core";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { type GeminiTestServer, startGeminiTestServer } from "@rlm/openai-test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromADK } from "./from-adk.js";
import { RLMAgent } from "./rlm-agent.js";

let server: GeminiTestServer;
const previous = process.env.GOOGLE_GEMINI_BASE_URL;

beforeAll(async () => {
  server = await startGeminiTestServer({ model: createDemoModel() });
  process.env.GOOGLE_GEMINI_BASE_URL = server.url;
});

afterAll(async () => {
  if (previous === undefined) delete process.env.GOOGLE_GEMINI_BASE_URL;
  else process.env.GOOGLE_GEMINI_BASE_URL = previous;
  await server.close();
});

describe("with ADK's Gemini class over HTTP", () => {
  it("an RLMAgent on Gemini answers over a large context; the root requests stay small", async () => {
    const agent = new RLMAgent({
      name: "reader",
      model: new Gemini({ model: "gemini-2.5-flash", apiKey: "test-key" }),
    });
    const runner = new InMemoryRunner({ agent, appName: "app" });
    const context = generateHaystack({
      chars: 1_000_000,
      needle: "The glacier station's generator runs on biodiesel.",
      seed: 3,
    });
    const session = await runner.sessionService.createSession({
      appName: "app",
      userId: "u",
      state: { rlm_context: context },
    });
    let answer = "";
    for await (const event of runner.runAsync({
      userId: "u",
      sessionId: session.id,
      newMessage: { role: "user", parts: [{ text: "What does the glacier station's generator run on?" }] },
    })) {
      if (isFinalResponse(event)) answer = stringifyContent(event);
    }
    expect(answer).toContain("biodiesel");
    expect(server.requests.every((r) => r.model === "gemini-2.5-flash" && r.apiKey === "test-key")).toBe(true);
    const root = server.requests.filter((r) => r.messages[0]?.role === "system");
    expect(Math.max(...root.map((r) => r.promptChars))).toBeLessThan(20_000);
    expect(server.requests.length).toBeGreaterThan(root.length);
  });

  it("fromADK maps usage metadata, and an API error surfaces as RLMModelError", async () => {
    const model = fromADK(new Gemini({ model: "gemini-2.5-flash", apiKey: "test-key" }));
    const result = await model.generate({ messages: [{ role: "user", content: "hello" }] });
    expect(result.usage?.inputTokens).toBeGreaterThan(0);
    server.failNext(403, "API key not valid. Please pass a valid API key.");
    const agent = new RLMAgent({
      name: "reader",
      model: new Gemini({ model: "gemini-2.5-flash", apiKey: "bad" }),
      maxRetries: 0,
    });
    const runner = new InMemoryRunner({ agent, appName: "app" });
    const session = await runner.sessionService.createSession({
      appName: "app",
      userId: "u",
      state: { rlm_context: "x" },
    });
    const error = await (async () => {
      for await (const _ of runner.runAsync({
        userId: "u",
        sessionId: session.id,
        newMessage: { role: "user", parts: [{ text: "q" }] },
      })) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(RLMModelError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("API key not valid");
  });
});
