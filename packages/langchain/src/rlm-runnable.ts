import type { CallbackManagerForChainRun } from "@langchain/core/callbacks/manager";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { createRLM, type JSONValue, type RLMResult } from "@rlm/core";
import { eventPayload, type RLMLangChainSettings, toRLMSettings } from "./to-rlm-settings.js";

/** What an `RLMRunnable` takes: a query and the data it is about (or just the query). */
export type RLMRunnableInput = { query: string; context?: JSONValue } | string;

/** `RLMRunnable` settings: the RLM's, and whether it outputs the answer or the whole result. */
export interface RLMRunnableFields extends RLMLangChainSettings {
  /** `"answer"` (default): the answer string. `"result"`: the full `RLMResult` (usage, trajectory, ...). */
  output?: "answer" | "result";
}

/**
 * A Recursive Language Model as a LangChain `Runnable`: `{ query, context }` in, the answer out (or the full
 * result with `withFullResult()` / `output: "result"`). `invoke`, `batch`, `stream`, `pipe`, `streamEvents`,
 * callbacks and the config's `signal` all work. The RLM's steps are custom events `rlm:<event type>`; the inner
 * models' runs nest under this chain run.
 */
export class RLMRunnable<Output extends string | RLMResult = string> extends Runnable<RLMRunnableInput, Output> {
  static override lc_name(): string {
    return "RLMRunnable";
  }

  override lc_namespace = ["rlm", "langchain"];

  constructor(private readonly fields: RLMRunnableFields) {
    super(fields);
  }

  /** The same RLM, outputting the full `RLMResult` (answer, stop reason, usage, trajectory). */
  withFullResult(): RLMRunnable<RLMResult> {
    return new RLMRunnable<RLMResult>({ ...this.fields, output: "result" });
  }

  override async invoke(input: RLMRunnableInput, options?: Partial<RunnableConfig>): Promise<Output> {
    return this._callWithConfig(this.run.bind(this), input, { ...options, runType: "chain" });
  }

  private async run(
    input: RLMRunnableInput,
    config?: Partial<RunnableConfig>,
    runManager?: CallbackManagerForChainRun,
  ): Promise<Output> {
    const { query, context } = typeof input === "string" ? { query: input, context: undefined } : input;
    const pending: Promise<unknown>[] = [];
    const { output, ...settings } = this.fields;
    const rlm = createRLM(
      toRLMSettings(settings, runManager?.getChild(), (event) => {
        if (runManager) pending.push(runManager.handleCustomEvent(`rlm:${event.type}`, eventPayload(event)));
      }),
    );
    try {
      const result = await rlm.run({
        query,
        ...(context !== undefined ? { context } : {}),
        ...(config?.signal ? { signal: config.signal } : {}),
      });
      return (output === "result" ? result : result.answer) as Output;
    } finally {
      await Promise.allSettled(pending);
    }
  }
}
