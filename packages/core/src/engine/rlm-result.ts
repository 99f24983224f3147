import type { ContextAccess } from "../sandbox/sandbox.js";
import type { Trajectory } from "../trajectory/trajectory-types.js";

/**
 * Why a run ended. `final`: the model answered with `FINAL`/`FINAL_VAR`. `max-iterations`: it ran out of turns and
 * was asked once more for an answer. The others: a shared budget ran out (the answer is the best one so far, or
 * empty).
 */
export type StopReason = "final" | "max-iterations" | "max-llm-calls" | "max-tokens" | "timeout";

/** Usage of one model, or of the whole tree. Cache hits are sub-calls answered without calling the model. */
export interface RLMUsage {
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheHits: number;
}

export interface RLMResult {
  /** The answer as text (JSON for a non-string `FINAL` value). */
  answer: string;
  /** The value passed to `FINAL`/`FINAL_VAR` when it was not a string (parsed from JSON). */
  value?: unknown;
  stopReason: StopReason;
  /** Root-model turns of this run. */
  iterations: number;
  /** Summed over the whole recursion tree. */
  usage: RLMUsage & { byModel: Record<string, RLMUsage> };
  trajectory: Trajectory;
  durationMs: number;
  /**
   * What the root run read of its context's host-backed texts (strings of `sandbox.hostStringMinChars`+ characters
   * and strings under `sandbox.hostStringKeys`): provenance, e.g. which documents an answer came from.
   */
  contextAccess: ContextAccess[];
}
