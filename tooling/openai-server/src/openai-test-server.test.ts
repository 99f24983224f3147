import { createScriptedModel } from "@rlm/core/test";
import { afterEach, describe, expect, it } from "vitest";
import { type OpenAITestServer, startOpenAITestServer } from "./openai-test-server.js";

let server: OpenAITestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const post = (url: string, body: object) =>
  fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("startOpenAITestServer", () => {
  it("answers chat completions from a LanguageModel, with usage", async () => {
    const model = createScriptedModel({
      replies: (r) => `echo: ${r.prompt}`,
      usage: { inputTokens: 7, outputTokens: 3 },
    });
    server = await startOpenAITestServer({ model });
    const response = await post(server.url, {
      model: "m",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "hi" }] },
      ],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      choices: Array<{ message: { content: string } }>;
      usage: { total_tokens: number };
    };
    expect(body.choices[0]?.message.content).toBe("echo: hi");
    expect(body.usage.total_tokens).toBe(10);
    expect(server.requests[0]?.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "hi" },
    ]);
  });

  it("streams server-sent events, then usage, then [DONE]", async () => {
    server = await startOpenAITestServer({
      model: createScriptedModel({ replies: ["a streamed reply"] }),
      chunkChars: 4,
    });
    const response = await post(server.url, {
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "x" }],
    });
    const text = await response.text();
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string } }>; usage?: object });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("a streamed reply");
    expect(chunks.at(-1)?.usage).toBeDefined();
  });

  it("injects 429 with retry-after, 500, dropped connections and malformed bodies, in order", async () => {
    server = await startOpenAITestServer({ model: createScriptedModel({ replies: ["ok"] }) });
    server.injectFaults(
      { type: "status", status: 429, retryAfterSeconds: 2 },
      { type: "status", status: 500 },
      { type: "drop" },
      { type: "malformed" },
    );
    const limited = await post(server.url, { messages: [] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(((await limited.json()) as { error: { type: string } }).error.type).toBe("rate_limit_exceeded");
    expect((await post(server.url, { messages: [] })).status).toBe(500);
    await expect(post(server.url, { messages: [] })).rejects.toThrow();
    await expect((await post(server.url, { messages: [] })).json()).rejects.toThrow();
    expect((await post(server.url, { messages: [] })).status).toBe(200);
  });
});
