import type { ChatMessage, GenerateRequest, GenerateResult, LanguageModel } from "@rlm/core";
import { type LanguageModel as AISDKLanguageModel, generateText, type ModelMessage } from "ai";

export interface FromAISDKOptions {
  /** Overrides the id the RLM reports for this model (in usage and trajectories). */
  modelId?: string;
}

/**
 * Adapts any AI SDK language model (a V4/V3/V2 model object, or a gateway id string) to the `LanguageModel` of
 * `@rlm/core`. System messages become `instructions` (ai 7 rejects them inside `messages`); usage and the abort
 * signal are passed through. The AI SDK's own retries are off: the RLM engine retries, within its budget.
 */
export function fromAISDK(model: AISDKLanguageModel, options: FromAISDKOptions = {}): LanguageModel {
  const modelId = options.modelId ?? (typeof model === "string" ? model : `${model.provider}:${model.modelId}`);
  return {
    modelId,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const { instructions, messages } = splitMessages(request.messages);
      const result = await generateText({
        model,
        ...(instructions ? { instructions } : {}),
        messages,
        maxRetries: 0,
        ...(request.signal ? { abortSignal: request.signal } : {}),
      });
      return {
        text: result.text,
        ...(result.usage.inputTokens !== undefined || result.usage.outputTokens !== undefined
          ? { usage: { inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0 } }
          : {}),
      };
    },
  };
}

function splitMessages(chat: ChatMessage[]): { instructions: string; messages: ModelMessage[] } {
  const system: string[] = [];
  const messages: ModelMessage[] = [];
  for (const m of chat) {
    if (m.role === "system") system.push(m.content);
    else messages.push({ role: m.role, content: m.content });
  }
  return { instructions: system.join("\n\n"), messages };
}
