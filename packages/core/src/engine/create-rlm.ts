import { setMaxListeners } from "node:events";
import { Budget } from "../budget/budget.js";
import { Semaphore } from "../budget/semaphore.js";
import { validateContext } from "../context/validate-context.js";
import { RLMAbortedError } from "../errors/aborted-error.js";
import { RLMInvalidArgumentError } from "../errors/invalid-argument-error.js";
import { epochMs } from "../events/epoch-ms.js";
import type { RLMEvent, RunFinishEvent } from "../events/rlm-event.js";
import { MAX_TIMER_MS } from "../limits.js";
import { describe, type ResolvedSettings, resolveSettings } from "../settings/resolve-settings.js";
import type { RLMRunInput, RLMSettings } from "../settings/rlm-settings.js";
import { TrajectoryRecorder } from "../trajectory/trajectory-recorder.js";
import type { Trajectory } from "../trajectory/trajectory-types.js";
import { AsyncQueue } from "./async-queue.js";
import type { RLMResult } from "./rlm-result.js";
import { type RunTree, runRLM } from "./run-rlm.js";
import { SubcallCache } from "./subcall-cache.js";

/** A configured Recursive Language Model. Reusable and safe to run concurrently. */
export interface RLM {
  /** The settings in force, defaults filled in. */
  readonly settings: Readonly<ResolvedSettings>;
  /**
   * Runs the loop until the model answers or a budget runs out; budget stops resolve with their `stopReason`.
   * Throws `RLMInvalidArgumentError` for bad input (before anything runs), `RLMAbortedError` when `signal` aborts
   * and `RLMModelError` when a root-model call fails for good; each carries `trajectory`, the run so far.
   */
  run(input: RLMRunInput): Promise<RLMResult>;
  /**
   * Like `run`, as a stream of every event of the tree, in order. The last event is the root's `run-finish`,
   * which carries the result; on failure a `run-error` event comes last and then the iterator throws.
   * Leaving the loop early aborts the run.
   */
  stream(input: RLMRunInput): AsyncGenerator<RLMEvent, void, undefined>;
}

/**
 * Creates an RLM from a root model and settings. Throws `RLMInvalidArgumentError` at once for bad settings.
 *
 * @example
 * const rlm = createRLM({ model, maxIterations: 10 });
 * const { answer } = await rlm.run({ query: "Who wrote the letter?", context: hugeText });
 */
export function createRLM(settings: RLMSettings): RLM {
  const resolved = resolveSettings(settings);
  const instanceCache = resolved.cache === "instance" ? new SubcallCache() : undefined;

  async function execute(input: RLMRunInput, listener?: (event: RLMEvent) => void): Promise<RLMResult> {
    const { query, context, signal } = checkInput(input, resolved);
    if (signal?.aborted) throw new RLMAbortedError({ reason: signal.reason });
    const recorder = new TrajectoryRecorder();
    const controller = new AbortController();
    // One listener per model request in flight hangs on this signal; thousands are expected, not a leak.
    setMaxListeners(0, controller.signal);
    const deliver = (event: RLMEvent) => {
      try {
        resolved.onEvent?.(event);
        listener?.(event);
      } catch (error) {
        controller.abort(error);
      }
    };
    const emit = (event: RLMEvent) => {
      recorder.record(event);
      deliver(event);
    };
    const budget = new Budget({
      maxIterations: resolved.maxIterations,
      maxLLMCalls: resolved.maxLLMCalls,
      maxTokens: resolved.maxTokens,
      timeoutMs: resolved.timeoutMs,
    });
    const onAbort = () => controller.abort(new RLMAbortedError({ reason: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      resolved.timeoutMs <= MAX_TIMER_MS
        ? setTimeout(() => controller.abort(budget.expire()), resolved.timeoutMs)
        : undefined;
    let counter = 0;
    const tree: RunTree = {
      settings: resolved,
      budget,
      semaphore: new Semaphore(resolved.concurrency),
      cache: instanceCache ?? (resolved.cache === "run" ? new SubcallCache() : undefined),
      signal: controller.signal,
      emit,
      nextId: (prefix) => `${prefix}-${++counter}`,
    };
    const started = performance.now();
    try {
      const outcome = await runRLM(tree, { query, context, depth: 0 });
      const durationMs = performance.now() - started;
      const finish: RunFinishEvent = {
        type: "run-finish",
        runId: outcome.runId,
        depth: 0,
        timestamp: epochMs(),
        answer: outcome.answer,
        stopReason: outcome.stopReason,
        iterations: outcome.iterations,
        durationMs,
      };
      recorder.record(finish);
      const result: RLMResult = {
        answer: outcome.answer,
        ...(outcome.value !== undefined ? { value: outcome.value } : {}),
        stopReason: outcome.stopReason,
        iterations: outcome.iterations,
        usage: budget.snapshot(),
        trajectory: recorder.snapshot(),
        durationMs,
        contextAccess: outcome.contextAccess ?? [],
      };
      deliver({ ...finish, result });
      return result;
    } catch (thrown) {
      const error =
        controller.signal.aborted && RLMAbortedError.isInstance(controller.signal.reason)
          ? controller.signal.reason
          : thrown;
      if (error instanceof Error) attachTrajectory(error, recorder);
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  return {
    settings: resolved,
    run: (input) => execute(input),
    async *stream(input) {
      const queue = new AsyncQueue<RLMEvent>();
      const stop = new AbortController();
      const signal = input?.signal ? AbortSignal.any([input.signal, stop.signal]) : stop.signal;
      const done = execute({ ...input, signal }, (event) => queue.push(event)).then(
        () => queue.close(),
        (error: unknown) => queue.fail(error),
      );
      try {
        yield* queue;
        await done;
      } finally {
        stop.abort(new Error("the stream's consumer stopped reading"));
        await done;
      }
    },
  };
}

function attachTrajectory(error: Error, recorder: TrajectoryRecorder): void {
  try {
    (error as Error & { trajectory?: Trajectory }).trajectory = recorder.snapshot();
  } catch {
    // No run had started (the error came before the first event): there is nothing to attach.
  }
}

function checkInput(
  input: RLMRunInput,
  settings: ResolvedSettings,
): { query: string; context: unknown; signal?: AbortSignal } {
  if (input === null || typeof input !== "object") {
    throw new RLMInvalidArgumentError({
      argument: "input",
      message: `expected { query, context?, signal? }, got ${describe(input)}.`,
    });
  }
  const { query, signal } = input;
  const context: unknown = input.context ?? "";
  if (typeof query !== "string" || query.trim().length === 0) {
    throw new RLMInvalidArgumentError({
      argument: "query",
      message: `expected a non-empty string, got ${describe(query)}.`,
    });
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RLMInvalidArgumentError({
      argument: "signal",
      message: `expected an AbortSignal, got ${describe(signal)}.`,
    });
  }
  const footprint = validateContext(context, settings.sandbox.hostStringMinChars, settings.sandbox.hostStringKeys);
  const allowed = Math.floor(settings.sandbox.memoryLimitBytes / 2);
  if (footprint.sandboxBytes > allowed) {
    const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;
    throw new RLMInvalidArgumentError({
      argument: "context",
      message: `about ${mb(footprint.sandboxBytes)} of it would live inside the sandbox (strings shorter than sandbox.hostStringMinChars = ${settings.sandbox.hostStringMinChars}, and its structure), but with sandbox.memoryLimitBytes = ${mb(settings.sandbox.memoryLimitBytes)} it may take at most ${mb(allowed)}. Raise sandbox.memoryLimitBytes, lower sandbox.hostStringMinChars, or join small parts into larger strings.`,
    });
  }
  return signal === undefined ? { query, context } : { query, context, signal };
}
