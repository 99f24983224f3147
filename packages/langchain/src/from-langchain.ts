import type { Callbacks } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { ChatMessage, GenerateRequest, GenerateResult, LanguageModel } from "@rlm/core";

export interface FromLangChainOptions {
  /** Overrides the id the RLM reports for this model (in usage and trajectories). Default: the model's name. */
  modelId?: string;
  /** Callbacks for the model's runs, e.g. a child manager so they nest under a parent run. */
  callbacks?: Callbacks;
}

/**
 * Adapts any LangChain chat model (or LLM) to the `LanguageModel` of `@rlm/core`: messages in, text and
 * `usage_metadata` out, the abort signal passed through, callbacks (for tracing and `streamEvents`) attached.
 */
export function fromLangChain(model: BaseLanguageModelInterface, options: FromLangChainOptions = {}): LanguageModel {
  return {
    modelId: options.modelId ?? modelName(model),
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const output: unknown = await model.invoke(request.messages.map(toLangChainMessage), {
        ...(request.signal ? { signal: request.signal } : {}),
        ...(options.callbacks ? { callbacks: options.callbacks } : {}),
      });
      if (typeof output === "string") return { text: output };
      const message = output as BaseMessage & { usage_metadata?: { input_tokens?: number; output_tokens?: number } };
      const usage = message.usage_metadata;
      return {
        text: message.text,
        ...(usage ? { usage: { inputTokens: usage.input_tokens ?? 0, outputTokens: usage.output_tokens ?? 0 } } : {}),
      };
    },
  };
}

export function toLangChainMessage(message: ChatMessage): BaseMessage {
  switch (message.role) {
    case "system":
      return new SystemMessage(message.content);
    case "user":
      return new HumanMessage(message.content);
    case "assistant":
      return new AIMessage(message.content);
    default: {
      const unknown: never = message.role;
      throw new Error(`unknown role ${String(unknown)}`);
    }
  }
}

function modelName(model: BaseLanguageModelInterface): string {
  const m = model as { model?: unknown; modelName?: unknown; getName?: () => string };
  if (typeof m.model === "string") return m.model;
  if (typeof m.modelName === "string") return m.modelName;
  return m.getName?.() ?? "langchain-model";
}
