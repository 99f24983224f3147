import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { fromAISDK } from "@rlm/ai-sdk";
import type { LanguageModel } from "@rlm/core";
import { createDemoModel } from "@rlm/core/demo";
import type { CLIOptions } from "./parse-cli-args.js";

export const DEFAULT_MODEL = "gpt-5-mini";

export interface ResolvedModels {
  model: LanguageModel;
  subModel: LanguageModel;
  /** One line saying where the models come from. */
  description: string;
  offline: boolean;
}

/**
 * Picks the models: an OpenAI-compatible server when `OPENAI_API_KEY`, `OPENAI_BASE_URL` or `--base-url` is set
 * (through the AI SDK's `@ai-sdk/openai-compatible`), otherwise the offline demo model.
 */
export function resolveModels(options: CLIOptions, env: NodeJS.ProcessEnv = process.env): ResolvedModels {
  const baseURL = options.baseURL ?? env.OPENAI_BASE_URL;
  const apiKey = env.OPENAI_API_KEY;
  if (options.demo || (baseURL === undefined && apiKey === undefined)) {
    const demo = createDemoModel({ latencyMs: options.command === "demo" ? 40 : 0 });
    return {
      model: demo,
      subModel: demo,
      offline: true,
      description: options.demo
        ? "Using the offline demo model (--demo): a scripted strategy, not an LLM."
        : "No model configured (set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server); running the offline demo model, which is not an LLM.",
    };
  }
  const provider = createOpenAICompatible({
    name: "openai",
    baseURL: baseURL ?? "https://api.openai.com/v1",
    ...(apiKey ? { apiKey } : {}),
    includeUsage: true,
  });
  const rootName = options.model ?? env.RLM_MODEL ?? DEFAULT_MODEL;
  const subName = options.subModel ?? env.RLM_SUB_MODEL ?? rootName;
  const model = fromAISDK(provider.chatModel(rootName), { modelId: rootName });
  const subModel = subName === rootName ? model : fromAISDK(provider.chatModel(subName), { modelId: subName });
  return {
    model,
    subModel,
    offline: false,
    description: `Using ${rootName}${subName !== rootName ? ` (sub-calls: ${subName})` : ""} at ${baseURL ?? "https://api.openai.com/v1"}.`,
  };
}
