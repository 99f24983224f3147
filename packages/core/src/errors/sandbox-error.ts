import { hasMarker, RLMError } from "./rlm-error.js";

/**
 * The sandbox itself (not the model's code) failed: the worker could not start, or it died and could not be
 * replaced. Errors in the model's code never throw; they are shown to the model.
 */
export class RLMSandboxError extends RLMError {
  constructor(options: { message: string; cause?: unknown }) {
    super({ code: "sandbox-error", name: "RLMSandboxError", message: options.message, cause: options.cause });
  }

  static override isInstance(error: unknown): error is RLMSandboxError {
    return hasMarker(error, "sandbox-error");
  }
}
