import { hasMarker, RLMError } from "./rlm-error.js";

/**
 * A language model call failed for good: the error was not retryable, or retries ran out.
 * `role` says which model (root of a run, or a sub-call), `statusCode` is the HTTP status when the model reported one.
 */
export class RLMModelError extends RLMError {
  readonly modelId: string;
  readonly role: "root" | "sub";
  readonly statusCode: number | undefined;
  readonly isRetryable: boolean;
  readonly attempts: number;

  constructor(options: {
    modelId: string;
    role: "root" | "sub";
    cause: unknown;
    statusCode?: number;
    isRetryable: boolean;
    attempts: number;
    message?: string;
  }) {
    super({
      code: "model-error",
      name: "RLMModelError",
      cause: options.cause,
      message:
        options.message ??
        `Model "${options.modelId}" (${options.role}) failed after ${options.attempts} attempt(s): ${describeCause(options.cause)}`,
    });
    this.modelId = options.modelId;
    this.role = options.role;
    this.statusCode = options.statusCode;
    this.isRetryable = options.isRetryable;
    this.attempts = options.attempts;
  }

  static override isInstance(error: unknown): error is RLMModelError {
    return hasMarker(error, "model-error");
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
