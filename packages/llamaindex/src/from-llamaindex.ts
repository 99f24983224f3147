import type { LLM, ChatMessage as LlamaChatMessage } from "@llamaindex/core/llms";
import { extractText } from "@llamaindex/core/utils";
import type { GenerateRequest, GenerateResult, LanguageModel } from "@rlm/core";

export interface FromLlamaIndexOptions {
  /** Overrides the id the RLM reports for this model. Default: the LLM's `metadata.model`. */
  modelId?: string;
}

/**
 * Adapts any LlamaIndex `LLM` (OpenAI, Anthropic, Ollama, a custom `BaseLLM`...) to the `LanguageModel` of
 * `@rlm/core`: messages in, text out, usage when the response reports it (OpenAI-style `usage` in `raw`).
 *
 * LlamaIndex's `chat()` takes no abort signal, so an abort rejects at once and the request is left to finish in
 * the background.
 */
export function fromLlamaIndex(llm: LLM, options: FromLlamaIndexOptions = {}): LanguageModel {
  return {
    modelId: options.modelId ?? llm.metadata.model,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      request.signal?.throwIfAborted();
      const messages: LlamaChatMessage[] = request.messages.map((m) => ({ role: m.role, content: m.content }));
      const response = await abortable(llm.chat({ messages }), request.signal);
      const usage = readUsage(response.raw);
      return { text: extractText(response.message.content), ...(usage ? { usage } : {}) };
    },
  };
}

function readUsage(raw: unknown): GenerateResult["usage"] {
  const usage = (raw as { usage?: Record<string, unknown> } | null)?.usage;
  if (!usage) return undefined;
  const input = usage.prompt_tokens ?? usage.input_tokens;
  const output = usage.completion_tokens ?? usage.output_tokens;
  if (typeof input !== "number" && typeof output !== "number") return undefined;
  return { inputTokens: typeof input === "number" ? input : 0, outputTokens: typeof output === "number" ? output : 0 };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
