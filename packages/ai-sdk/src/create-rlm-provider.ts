import { NoSuchModelError, type ProviderV4 } from "@ai-sdk/provider";
import { RLMLanguageModel, type RLMProviderSettings } from "./rlm-language-model.js";
import { RLMLanguageModelV3 } from "./rlm-language-model-v3.js";

/**
 * An AI SDK provider whose language models are Recursive Language Models. Call it (or `languageModel`) with a
 * model id (a label for logs; default `"rlm"`) and optional settings that override the provider's.
 */
export interface RLMProvider extends ProviderV4 {
  (modelId?: string, settings?: Partial<RLMProviderSettings>): RLMLanguageModel;
  languageModel(modelId: string, settings?: Partial<RLMProviderSettings>): RLMLanguageModel;
  /** The same model as a `LanguageModelV3`, for `ai` 6. */
  languageModelV3(modelId: string, settings?: Partial<RLMProviderSettings>): RLMLanguageModelV3;
}

/**
 * Creates an RLM provider.
 *
 * @example
 * const rlm = createRLMProvider({ model: openai("gpt-5-mini"), subModel: openai("gpt-5-nano") });
 * const { text } = await generateText({ model: rlm(), prompt: [{ role: "user", content: longDocument }, ...] });
 */
export function createRLMProvider(settings: RLMProviderSettings): RLMProvider {
  const create = (modelId = "rlm", overrides: Partial<RLMProviderSettings> = {}) =>
    new RLMLanguageModel(modelId, { ...settings, ...overrides });
  const provider = ((modelId?: string, overrides?: Partial<RLMProviderSettings>) =>
    create(modelId, overrides)) as RLMProvider;
  Object.assign(provider, {
    specificationVersion: "v4" as const,
    languageModel: create,
    languageModelV3: (modelId: string, overrides?: Partial<RLMProviderSettings>) =>
      new RLMLanguageModelV3(create(modelId, overrides)),
    embeddingModel: (modelId: string) => {
      throw new NoSuchModelError({
        modelId,
        modelType: "embeddingModel",
        message: "The rlm provider has language models only.",
      });
    },
    imageModel: (modelId: string) => {
      throw new NoSuchModelError({
        modelId,
        modelType: "imageModel",
        message: "The rlm provider has language models only.",
      });
    },
  });
  return provider;
}
