export { RLMAbortedError } from "./aborted-error.js";
export { type BudgetLimit, RLMBudgetExceededError } from "./budget-exceeded-error.js";
export { RLMInvalidArgumentError } from "./invalid-argument-error.js";
export { RLMModelError } from "./model-error.js";
export { RLMError, type RLMErrorCode } from "./rlm-error.js";
export { RLMSandboxError } from "./sandbox-error.js";
