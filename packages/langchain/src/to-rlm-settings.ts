import type { CallbackManager } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import { isLanguageModel, type LanguageModel, type RLMEvent, type RLMSettings } from "@rlm/core";
import { fromLangChain } from "./from-langchain.js";

/** A model for the RLM: a LangChain chat model (or LLM), or a `LanguageModel` of `@rlm/core` (e.g. the demo model). */
export type RLMModelInput = BaseLanguageModelInterface | LanguageModel;

/** The RLM's own settings, as taken by `ChatRLM` and `RLMRunnable`. */
export interface RLMLangChainSettings extends Omit<RLMSettings, "model" | "subModel" | "onEvent"> {
  model: RLMModelInput;
  subModel?: RLMModelInput;
}

/** RLM events forwarded as LangChain custom events (`on_custom_event` in `streamEvents`), named `rlm:<type>`. */
export const FORWARDED_EVENTS = new Set<RLMEvent["type"]>([
  "run-start",
  "iteration-start",
  "code-executed",
  "subcall-start",
  "subcall-end",
  "model-retry",
  "budget-exceeded",
  "final-answer",
  "run-finish",
]);

/**
 * Core settings for one invocation: LangChain models wrapped so their runs nest under `callbacks` (the
 * invocation's child manager), and every forwarded event handed to `emit`.
 */
export function toRLMSettings(
  settings: RLMLangChainSettings,
  callbacks: CallbackManager | undefined,
  emit: (event: RLMEvent) => void,
): RLMSettings {
  const adapt = (model: RLMModelInput, tag: string) =>
    isLanguageModel(model) ? model : fromLangChain(model, callbacks ? { callbacks: withTag(callbacks, tag) } : {});
  const { model, subModel, ...rest } = settings;
  return {
    ...rest,
    model: adapt(model, "rlm:root"),
    ...(subModel ? { subModel: adapt(subModel, "rlm:sub") } : { subModel: adapt(model, "rlm:sub") }),
    onEvent: (event) => {
      if (FORWARDED_EVENTS.has(event.type)) emit(event);
    },
  };
}

function withTag(callbacks: CallbackManager, tag: string): CallbackManager {
  const copy = callbacks.copy();
  copy.addTags([tag], false);
  return copy;
}

/** Strips what LangChain's event payloads should not carry (the root `run-finish` holds the whole result). */
export function eventPayload(event: RLMEvent): Record<string, unknown> {
  if (event.type === "run-finish") {
    const { result: _result, ...rest } = event;
    return rest;
  }
  return { ...event };
}
