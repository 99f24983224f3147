/** One message of a chat transcript. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Token counts reported by a model for one call. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What the engine asks of a model: a transcript, and a signal that fires when the answer is no longer wanted. */
export interface GenerateRequest {
  messages: ChatMessage[];
  signal?: AbortSignal;
}

/** A model's reply. `usage` is optional; without it the engine estimates tokens as characters / 4. */
export interface GenerateResult {
  text: string;
  usage?: TokenUsage;
}

/**
 * The one model interface of `@rlm/core`. Every integration adapts its framework's models to it
 * (`fromLangChain`, `fromAISDK`, `fromLlamaIndex`, `fromADK`). Changing it is a breaking change.
 *
 * `generate` may throw; errors that carry `isRetryable: true`, a 408/409/429/5xx `status`/`statusCode`, or a
 * network error code (`ECONNRESET`, ...) are retried with backoff. A `retryAfterMs` property is honoured.
 */
export interface LanguageModel {
  readonly modelId: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

/** True when `value` has the shape of a {@link LanguageModel}. */
export function isLanguageModel(value: unknown): value is LanguageModel {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { modelId?: unknown }).modelId === "string" &&
    typeof (value as { generate?: unknown }).generate === "function"
  );
}
