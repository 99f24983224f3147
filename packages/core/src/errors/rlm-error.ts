import type { Trajectory } from "../trajectory/trajectory-types.js";

const marker = "rlm.error";
const symbol = Symbol.for(marker);

/** Every error code an `RLMError` can carry. */
export type RLMErrorCode = "invalid-argument" | "model-error" | "aborted" | "sandbox-error" | "budget-exceeded";

/**
 * Base class of every error thrown by `@rlm/core` and its integrations.
 *
 * Use `RLMError.isInstance(e)` (or a subclass's `isInstance`) rather than `instanceof`: it also recognises errors
 * created by a second installed copy of the package.
 */
export class RLMError extends Error {
  // The marker `isInstance` checks; a symbol from Symbol.for, so it works across copies of the package.
  protected readonly [symbol] = true;
  readonly code: RLMErrorCode;
  /** The run's trajectory up to the failure, when the error ended a run. */
  trajectory?: Trajectory;

  constructor(options: { code: RLMErrorCode; message: string; cause?: unknown; name?: string }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = options.name ?? "RLMError";
    this.code = options.code;
  }

  /** True for any `RLMError`, from any copy of `@rlm/core`. */
  static isInstance(error: unknown): error is RLMError {
    return hasMarker(error);
  }
}

/** @internal */
export function hasMarker(error: unknown, code?: RLMErrorCode): boolean {
  if (error == null || typeof error !== "object") return false;
  if ((error as Record<symbol, unknown>)[symbol] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}
