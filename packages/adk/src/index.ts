export { fromADK } from "./from-adk.js";
export { RLMAgent, type RLMAgentConfig, type RLMModelInput } from "./rlm-agent.js";
