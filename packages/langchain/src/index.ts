export { ChatRLM, type ChatRLMCallOptions, type ChatRLMFields } from "./chat-rlm.js";
export { type FromLangChainOptions, fromLangChain } from "./from-langchain.js";
export { RLMRunnable, type RLMRunnableFields, type RLMRunnableInput } from "./rlm-runnable.js";
export { FORWARDED_EVENTS, type RLMLangChainSettings, type RLMModelInput } from "./to-rlm-settings.js";
