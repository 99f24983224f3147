import type { Budget } from "../budget/budget.js";
import type { Semaphore } from "../budget/semaphore.js";
import { RLMModelError } from "../errors/model-error.js";
import { epochMs } from "../events/epoch-ms.js";
import { RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from "../limits.js";
import type { ChatMessage, LanguageModel, TokenUsage } from "../model/language-model.js";
import { requestSignal } from "./request-signal.js";

export interface CallModelOptions {
  model: LanguageModel;
  messages: ChatMessage[];
  role: "root" | "sub";
  budget: Budget;
  semaphore: Semaphore;
  signal: AbortSignal;
  maxRetries: number;
  modelTimeoutMs: number;
  onRetry?: (retry: { attempt: number; delayMs: number; error: string }) => void;
}

export interface ModelReply {
  text: string;
  usage: TokenUsage;
  /** Time of the successful request itself. */
  durationMs: number;
  /** When the successful request went out (after any wait for a concurrency permit) and came back: epoch ms. */
  requestStartedAt: number;
  requestEndedAt: number;
}

/**
 * One model request with everything around it: a budget check per attempt, a concurrency permit held only while
 * the request is in flight (so nested runs cannot deadlock), a per-request timeout, retries with exponential
 * backoff and jitter for transient errors (honouring `retryAfterMs`), and token usage recorded (estimated as
 * characters / 4 when the model reports none).
 *
 * Throws `RLMBudgetExceededError` when the budget is spent, the signal's reason when aborted, and `RLMModelError`
 * for a permanent failure.
 */
export async function callModel(options: CallModelOptions): Promise<ModelReply> {
  const { model, messages, budget, signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    budget.takeCall(model.modelId);
    const release = await options.semaphore.acquire(signal);
    const requestStartedAt = epochMs();
    // Fires on the caller's signal or on the request's own timeout (shared by requests that start together).
    const request = requestSignal(signal, options.modelTimeoutMs);
    const started = performance.now();
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    let requestEndedAt = 0;
    try {
      outcome = { ok: true, value: await model.generate({ messages, signal: request.signal }) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      // Taken before the permit is released, so the next request in line always starts after it.
      requestEndedAt = epochMs();
      request.end();
      release();
    }
    if (outcome.ok) {
      const result = outcome.value as { text?: unknown; usage?: unknown } | null;
      if (result === null || typeof result !== "object" || typeof result.text !== "string") {
        throw new RLMModelError({
          modelId: model.modelId,
          role: options.role,
          cause: result,
          isRetryable: false,
          attempts: attempt,
          message: `Model "${model.modelId}" returned ${describeValue(result)}; generate() must resolve to { text: string, usage? }.`,
        });
      }
      const usage = normaliseUsage(result.usage) ?? estimateUsage(messages, result.text);
      budget.recordUsage(model.modelId, usage);
      return { text: result.text, usage, durationMs: performance.now() - started, requestStartedAt, requestEndedAt };
    }
    if (signal.aborted) throw signal.reason;
    const cause = request.timedOut() ? request.signal.reason : outcome.error;
    const retryable = isRetryable(cause);
    const delayMs = retryDelayMs(cause, attempt);
    if (!retryable || attempt > options.maxRetries || delayMs > budget.timeLeftMs()) {
      throw new RLMModelError({
        modelId: model.modelId,
        role: options.role,
        cause,
        statusCode: statusOf(cause),
        isRetryable: retryable,
        attempts: attempt,
      });
    }
    options.onRetry?.({ attempt, delayMs, error: describeValue(cause) });
    await sleep(delayMs, signal);
  }
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Transient errors: explicit `isRetryable`, HTTP 408/409/429/5xx, network error codes, timeouts. */
export function isRetryable(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const e = error as { isRetryable?: unknown; code?: unknown; cause?: unknown; name?: unknown };
  if (typeof e.isRetryable === "boolean") return e.isRetryable;
  const status = statusOf(error);
  if (status !== undefined) return status === 408 || status === 409 || status === 429 || status >= 500;
  if (typeof e.code === "string" && RETRYABLE_CODES.has(e.code)) return true;
  if (e.name === "TimeoutError") return true;
  if (e.cause !== undefined && e.cause !== error) return isRetryable(e.cause);
  return false;
}

function statusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const e = error as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } };
  for (const v of [e.statusCode, e.status, e.response?.status]) if (typeof v === "number") return v;
  return undefined;
}

/** Exponential backoff with jitter; a `retryAfterMs` (or `retry-after` header, in seconds) wins when present. */
function retryDelayMs(error: unknown, attempt: number): number {
  const e = (error ?? {}) as { retryAfterMs?: unknown; headers?: unknown; responseHeaders?: unknown };
  if (typeof e.retryAfterMs === "number" && e.retryAfterMs >= 0) return Math.min(e.retryAfterMs, RETRY_MAX_DELAY_MS);
  for (const headers of [e.headers, e.responseHeaders]) {
    const value = headerValue(headers, "retry-after");
    if (value !== undefined) {
      const seconds = Number(value);
      if (Number.isFinite(seconds)) return Math.min(seconds * 1000, RETRY_MAX_DELAY_MS);
    }
  }
  const base = RETRY_BASE_DELAY_MS * 2 ** (attempt - 1);
  return Math.min(base * (0.5 + Math.random() / 2), RETRY_MAX_DELAY_MS);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== "object") return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === "string" ? v : undefined;
}

function normaliseUsage(usage: unknown): TokenUsage | undefined {
  if (usage === null || typeof usage !== "object") return undefined;
  const u = usage as { inputTokens?: unknown; outputTokens?: unknown };
  const input = typeof u.inputTokens === "number" && Number.isFinite(u.inputTokens) ? u.inputTokens : undefined;
  const output = typeof u.outputTokens === "number" && Number.isFinite(u.outputTokens) ? u.outputTokens : undefined;
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

/** About four characters a token: good enough for budgets when a model reports no usage. */
export function estimateUsage(messages: ChatMessage[], text: string): TokenUsage {
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return { inputTokens: Math.ceil(chars / 4), outputTokens: Math.ceil(text.length / 4) };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function describeValue(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
