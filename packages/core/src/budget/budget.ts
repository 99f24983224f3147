import type { RLMUsage, StopReason } from "../engine/rlm-result.js";
import { RLMBudgetExceededError } from "../errors/budget-exceeded-error.js";
import type { TokenUsage } from "../model/language-model.js";

export interface BudgetLimits {
  maxIterations: number;
  maxLLMCalls: number;
  maxTokens: number;
  timeoutMs: number;
}

/**
 * The one ledger of a run tree: iterations, model calls, tokens and time, shared by the root run and every child
 * run, so a child spends what is left rather than a fresh allowance. The first limit hit is remembered in
 * `exhausted`; every run in the tree stops at its next check.
 */
export class Budget {
  readonly startedAt = Date.now();
  iterations = 0;
  readonly usage: RLMUsage = { llmCalls: 0, inputTokens: 0, outputTokens: 0, cacheHits: 0 };
  readonly byModel: Record<string, RLMUsage> = {};
  exhausted: { stopReason: Exclude<StopReason, "final" | "max-iterations">; error: RLMBudgetExceededError } | undefined;

  constructor(readonly limits: BudgetLimits) {}

  /** Takes one root-model turn; false when `maxIterations` turns have been taken across the tree. */
  takeIteration(): boolean {
    if (this.iterations >= this.limits.maxIterations) return false;
    this.iterations++;
    return true;
  }

  /** Takes one model request (retries count too), or throws (and marks the tree exhausted) when calls or tokens have run out. */
  takeCall(modelId: string): void {
    this.assertCanCall();
    this.usage.llmCalls++;
    this.modelUsage(modelId).llmCalls++;
  }

  /** Throws (and marks the tree exhausted) when no further model call is allowed. */
  assertCanCall(): void {
    this.throwIfExhausted();
    if (this.usage.llmCalls >= this.limits.maxLLMCalls) {
      this.exhaust(
        "max-llm-calls",
        new RLMBudgetExceededError({
          limit: "maxLLMCalls",
          allowed: this.limits.maxLLMCalls,
          used: this.usage.llmCalls,
        }),
      );
    }
    const tokens = this.usage.inputTokens + this.usage.outputTokens;
    if (tokens >= this.limits.maxTokens) {
      this.exhaust(
        "max-tokens",
        new RLMBudgetExceededError({ limit: "maxTokens", allowed: this.limits.maxTokens, used: tokens }),
      );
    }
  }

  /** Adds a call's tokens to the tree's totals and to its model's. */
  recordUsage(modelId: string, usage: TokenUsage): void {
    this.usage.inputTokens += usage.inputTokens;
    this.usage.outputTokens += usage.outputTokens;
    const model = this.modelUsage(modelId);
    model.inputTokens += usage.inputTokens;
    model.outputTokens += usage.outputTokens;
  }

  recordCacheHit(modelId: string): void {
    this.usage.cacheHits++;
    this.modelUsage(modelId).cacheHits++;
  }

  /** Marks the wall-clock budget as spent (called by the run's timer). */
  expire(): RLMBudgetExceededError {
    const error = new RLMBudgetExceededError({
      limit: "timeoutMs",
      allowed: this.limits.timeoutMs,
      used: Date.now() - this.startedAt,
    });
    this.exhausted ??= { stopReason: "timeout", error };
    return error;
  }

  throwIfExhausted(): void {
    if (this.exhausted) throw this.exhausted.error;
  }

  /** Milliseconds left before `timeoutMs`. */
  timeLeftMs(): number {
    return this.startedAt + this.limits.timeoutMs - Date.now();
  }

  /** A copy of the totals, with per-model usage. */
  snapshot(): RLMUsage & { byModel: Record<string, RLMUsage> } {
    const byModel: Record<string, RLMUsage> = {};
    for (const [id, u] of Object.entries(this.byModel)) byModel[id] = { ...u };
    return { ...this.usage, byModel };
  }

  private exhaust(
    stopReason: Exclude<StopReason, "final" | "max-iterations" | "timeout">,
    error: RLMBudgetExceededError,
  ): never {
    this.exhausted ??= { stopReason, error };
    throw error;
  }

  private modelUsage(modelId: string): RLMUsage {
    let u = this.byModel[modelId];
    if (u === undefined) {
      u = { llmCalls: 0, inputTokens: 0, outputTokens: 0, cacheHits: 0 };
      this.byModel[modelId] = u;
    }
    return u;
  }
}
