import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatMessage, LanguageModel } from "@rlm/core";
import { readBody, sendJSON } from "./http-helpers.js";

/** A fault to inject into the next request(s) instead of (or before) a normal reply. */
export type InjectedFault =
  | { type: "status"; status: number; retryAfterSeconds?: number; message?: string }
  | { type: "drop" }
  | { type: "malformed" }
  | { type: "delay"; ms: number };

/** One request the server received. */
export interface RecordedRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  /** Characters in all messages: what a test checks to prove a prompt stayed bounded. */
  promptChars: number;
  receivedAt: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface OpenAITestServerOptions {
  /** Answers every chat completion (e.g. a scripted model or the demo model). */
  model: LanguageModel;
  /** Delay before every reply, in milliseconds. */
  latencyMs?: number;
  /** Characters per streamed chunk. Default 8. */
  chunkChars?: number;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
}

export interface OpenAITestServer {
  /** Base URL including `/v1`, for `OPENAI_BASE_URL` / `baseURL`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queues faults: each applies to one upcoming request, in order. */
  injectFaults(...faults: InjectedFault[]): void;
  close(): Promise<void>;
}

/**
 * Starts a real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol (JSON and SSE streaming,
 * usage fields, error bodies) and answers from a `LanguageModel`. Integration tests point real client libraries at
 * it; it can inject latency, HTTP errors with `retry-after`, dropped connections and malformed bodies.
 */
export async function startOpenAITestServer(options: OpenAITestServerOptions): Promise<OpenAITestServer> {
  const requests: RecordedRequest[] = [];
  const faults: InjectedFault[] = [];
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : String(error));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0];
    if (req.method === "GET" && path === "/v1/models") {
      sendJSON(res, 200, {
        object: "list",
        data: [{ id: options.model.modelId, object: "model", owned_by: "rlm-test" }],
      });
      return;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      sendError(res, 404, `no route for ${req.method} ${path}`);
      return;
    }
    const body = JSON.parse(await readBody(req)) as {
      model?: string;
      messages?: Array<{ role: string; content: unknown }>;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const messages = (body.messages ?? []).map(toChatMessage).filter((m): m is ChatMessage => m !== undefined);
    const record: RecordedRequest = {
      model: body.model ?? "",
      messages,
      stream: body.stream === true,
      promptChars: messages.reduce((n, m) => n + m.content.length, 0),
      receivedAt: Date.now(),
      headers: req.headers,
    };
    requests.push(record);

    const fault = faults.shift();
    if (fault?.type === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault?.type === "status") {
      if (fault.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(fault.retryAfterSeconds));
      sendError(res, fault.status, fault.message ?? `injected ${fault.status}`);
      return;
    }
    if (fault?.type === "malformed") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"id": "chatcmpl-broken", "choices": [{"message": ');
      return;
    }
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort(new Error("client disconnected"));
    });
    const wait = (fault?.type === "delay" ? fault.ms : 0) + (options.latencyMs ?? 0);
    if (wait > 0) await sleep(wait, abort.signal);
    const result = await options.model.generate({ messages, signal: abort.signal });
    const usage = result.usage ?? {
      inputTokens: Math.ceil(record.promptChars / 4),
      outputTokens: Math.ceil(result.text.length / 4),
    };
    const usageJSON = {
      prompt_tokens: usage.inputTokens,
      completion_tokens: usage.outputTokens,
      total_tokens: usage.inputTokens + usage.outputTokens,
    };
    const id = `chatcmpl-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? options.model.modelId;
    if (!record.stream) {
      sendJSON(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [
          { index: 0, message: { role: "assistant", content: result.text }, finish_reason: "stop", logprobs: null },
        ],
        usage: usageJSON,
      });
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    res.write(chunk({ role: "assistant", content: "" }, null));
    const size = options.chunkChars ?? 8;
    for (let i = 0; i < result.text.length; i += size)
      res.write(chunk({ content: result.text.slice(i, i + size) }, null));
    res.write(chunk({}, "stop"));
    if (body.stream_options?.include_usage) {
      res.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usageJSON })}\n\n`,
      );
    }
    res.end("data: [DONE]\n\n");
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    injectFaults: (...more) => faults.push(...more),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function toChatMessage(m: { role: string; content: unknown }): ChatMessage | undefined {
  const role = m.role === "developer" ? "system" : m.role;
  if (role !== "system" && role !== "user" && role !== "assistant") return undefined;
  const content =
    typeof m.content === "string"
      ? m.content
      : Array.isArray(m.content)
        ? m.content.map((p: { type?: string; text?: string }) => (p.type === "text" ? (p.text ?? "") : "")).join("")
        : "";
  return { role, content };
}

function sendError(res: ServerResponse, status: number, message: string): void {
  const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  sendJSON(res, status, { error: { message, type, param: null, code: type } });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
