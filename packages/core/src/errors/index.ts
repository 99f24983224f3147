export { RLMError, type RLMErrorCode } from "./rlm-error.js";
export { RLMInvalidArgumentError } from "./invalid-argument-error.js";
export { RLMModelError } from "./model-error.js";
export { RLMAbortedError } from "./aborted-error.js";
export { RLMSandboxError } from "./sandbox-error.js";
export { RLMBudgetExceededError, type BudgetLimit } from "./budget-exceeded-error.js";
