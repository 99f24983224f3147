export { createRLMProvider, type RLMProvider } from "./create-rlm-provider.js";
export { type FromAISDKOptions, fromAISDK } from "./from-ai-sdk.js";
export { promptToTask, type RLMTask } from "./prompt-to-task.js";
export { RLMLanguageModel, type RLMModelInput, type RLMProviderSettings, toCoreModel } from "./rlm-language-model.js";
export { RLMLanguageModelV3 } from "./rlm-language-model-v3.js";
