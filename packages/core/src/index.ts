export {
  type ContextPart,
  type ConversationMessage,
  type ConversationSplitOptions,
  conversationToTask,
  DEFAULT_CONVERSATION_SPLIT,
} from "./context/conversation-to-task.js";
export { type ContextDescription, describeContext } from "./context/describe-context.js";
export { createRLM, type RLM } from "./engine/create-rlm.js";
export { findProseFinal, type ParsedResponse, type ProseFinal, parseResponse } from "./engine/parse-response.js";
export type { RLMResult, RLMUsage, StopReason } from "./engine/rlm-result.js";
export {
  type BudgetLimit,
  RLMAbortedError,
  RLMBudgetExceededError,
  RLMError,
  type RLMErrorCode,
  RLMInvalidArgumentError,
  RLMModelError,
  RLMSandboxError,
} from "./errors/index.js";
export { describeEvent } from "./events/describe-event.js";
export type {
  BudgetExceededEvent,
  CodeExecutedEvent,
  FinalAnswerEvent,
  IterationStartEvent,
  ModelRequestEvent,
  ModelResponseEvent,
  ModelRetryEvent,
  RLMEvent,
  RLMEventBase,
  RLMEventType,
  RunErrorEvent,
  RunFinishEvent,
  RunStartEvent,
  SubcallEndEvent,
  SubcallKind,
  SubcallStartEvent,
} from "./events/rlm-event.js";
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_HOST_STRING_MIN_CHARS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_ITERATIONS,
  DEFAULT_MAX_LLM_CALLS,
  DEFAULT_MAX_OUTPUT_CHARS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_MODEL_TIMEOUT_MS,
  DEFAULT_STEP_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
} from "./limits.js";
export {
  type ChatMessage,
  type GenerateRequest,
  type GenerateResult,
  isLanguageModel,
  type LanguageModel,
  type TokenUsage,
} from "./model/language-model.js";
export type { ContextPath } from "./sandbox/protocol.js";
export type { ContextAccess } from "./sandbox/sandbox.js";
export { type ResolvedSettings, RLM_SETTING_KEYS } from "./settings/resolve-settings.js";
export type {
  JSONValue,
  RLMRunInput,
  RLMSandboxSettings,
  RLMSettings,
  RLMTool,
  RLMToolDefinition,
} from "./settings/rlm-settings.js";
export { TrajectoryRecorder } from "./trajectory/trajectory-recorder.js";
export {
  type CellTrace,
  type IterationTrace,
  type RunTrace,
  type SubcallTrace,
  TRAJECTORY_VERSION,
  type Trajectory,
} from "./trajectory/trajectory-types.js";
