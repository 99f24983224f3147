import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatMessage, LanguageModel } from "@rlm/core";
import { readBody, sendJSON } from "./http-helpers.js";

/** One request the Gemini test server received. */
export interface RecordedGeminiRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  promptChars: number;
  apiKey: string | undefined;
}

export interface GeminiTestServer {
  /** Base URL for `GOOGLE_GEMINI_BASE_URL` (the `@google/genai` client, and so ADK's `Gemini`, honour it). */
  readonly url: string;
  readonly requests: RecordedGeminiRequest[];
  /** Makes the next request fail with this HTTP status and Google's error body. */
  failNext(status: number, message: string): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 speaking enough of the Gemini API (`models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`, usage metadata, error bodies) to run ADK's `Gemini` class against a
 * `LanguageModel`, e.g. the offline demo model.
 */
export async function startGeminiTestServer(options: { model: LanguageModel }): Promise<GeminiTestServer> {
  const requests: RecordedGeminiRequest[] = [];
  let failure: { status: number; message: string } | undefined;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) =>
      sendJSON(res, 500, { error: { code: 500, message: String(error), status: "INTERNAL" } }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url.pathname);
    if (req.method !== "POST" || !match) {
      sendJSON(res, 404, {
        error: { code: 404, message: `no route for ${req.method} ${url.pathname}`, status: "NOT_FOUND" },
      });
      return;
    }
    const body = JSON.parse(await readBody(req)) as {
      contents?: Array<{ role?: string; parts?: Array<{ text?: string }> }>;
      systemInstruction?: { parts?: Array<{ text?: string }> } | string;
    };
    const system =
      typeof body.systemInstruction === "string"
        ? body.systemInstruction
        : (body.systemInstruction?.parts ?? []).map((p) => p.text ?? "").join("");
    const messages: ChatMessage[] = [
      ...(system ? [{ role: "system" as const, content: system }] : []),
      ...(body.contents ?? []).map((c) => ({
        role: c.role === "model" ? ("assistant" as const) : ("user" as const),
        content: (c.parts ?? []).map((p) => p.text ?? "").join(""),
      })),
    ];
    const stream = match[2] === "streamGenerateContent";
    const apiKey = (req.headers["x-goog-api-key"] as string | undefined) ?? url.searchParams.get("key") ?? undefined;
    requests.push({
      model: match[1] as string,
      messages,
      stream,
      promptChars: messages.reduce((n, m) => n + m.content.length, 0),
      apiKey,
    });
    if (failure) {
      const { status, message } = failure;
      failure = undefined;
      sendJSON(res, status, {
        error: {
          code: status,
          message,
          status: status === 403 ? "PERMISSION_DENIED" : status === 429 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT",
        },
      });
      return;
    }
    const result = await options.model.generate({ messages });
    const chars = messages.reduce((n, m) => n + m.content.length, 0);
    const usage = result.usage ?? {
      inputTokens: Math.ceil(chars / 4),
      outputTokens: Math.ceil(result.text.length / 4),
    };
    const payload = {
      candidates: [{ content: { role: "model", parts: [{ text: result.text }] }, finishReason: "STOP", index: 0 }],
      usageMetadata: {
        promptTokenCount: usage.inputTokens,
        candidatesTokenCount: usage.outputTokens,
        totalTokenCount: usage.inputTokens + usage.outputTokens,
      },
      modelVersion: match[1],
    };
    if (!stream) {
      sendJSON(res, 200, payload);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(`data: ${JSON.stringify(payload)}\r\n\r\n`);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (status, message) => {
      failure = { status, message };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
