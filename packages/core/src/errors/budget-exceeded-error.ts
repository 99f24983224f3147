import { hasMarker, RLMError } from "./rlm-error.js";

/** Which budget ran out. */
export type BudgetLimit = "maxLLMCalls" | "maxTokens" | "timeoutMs" | "maxIterations";

/**
 * A shared budget ran out. Runs do not throw it (they end with a `stopReason`); the sandbox shows it to the model
 * when a sub-call is refused.
 */
export class RLMBudgetExceededError extends RLMError {
  readonly limit: BudgetLimit;
  readonly allowed: number;
  readonly used: number;

  constructor(options: { limit: BudgetLimit; allowed: number; used: number }) {
    super({
      code: "budget-exceeded",
      name: "RLMBudgetExceededError",
      message: `Budget exhausted: ${options.limit} = ${options.allowed} (used ${options.used}).`,
    });
    this.limit = options.limit;
    this.allowed = options.allowed;
    this.used = options.used;
  }

  static override isInstance(error: unknown): error is RLMBudgetExceededError {
    return hasMarker(error, "budget-exceeded");
  }
}
