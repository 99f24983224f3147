import { AsyncLocalStorage } from "node:async_hooks";
import { Settings } from "@llamaindex/core/global";
import type { LLM } from "@llamaindex/core/llms";
import { BaseQueryEngine, type QueryType } from "@llamaindex/core/query-engine";
import { type BaseNode, EngineResponse, MetadataMode, type NodeWithScore } from "@llamaindex/core/schema";
import { extractText } from "@llamaindex/core/utils";
import {
  type ContextAccess,
  createRLM,
  isLanguageModel,
  type JSONValue,
  type LanguageModel,
  type RLMEvent,
  RLMInvalidArgumentError,
  type RLMResult,
  type RLMSettings,
} from "@rlm/core";
import { fromLlamaIndex } from "./from-llamaindex.js";

/** A LlamaIndex LLM or a `LanguageModel` of `@rlm/core` (e.g. the offline demo model). */
export type RLMModelInput = LLM | LanguageModel;

/** Something that can narrow the documents first: a retriever, or an index that makes one. */
export interface NodeRetriever {
  retrieve(params: QueryType): Promise<NodeWithScore[]>;
}

export interface RLMQueryEngineOptions extends Omit<RLMSettings, "model" | "subModel" | "onEvent"> {
  /** The documents or nodes to answer from. */
  documents?: BaseNode[];
  /** Narrows the documents first: its nodes for the query become the context. */
  retriever?: NodeRetriever;
  /** Like `retriever`, from an index (`index.asRetriever({ similarityTopK })`). */
  index?: { asRetriever(options?: { similarityTopK?: number }): NodeRetriever };
  /** With `index`: how many nodes to retrieve. Default 20. */
  similarityTopK?: number;
  /** The root model. Default: `Settings.llm`, read at query time. */
  llm?: RLMModelInput;
  /** The model behind `llm_query`. Default: `llm`. */
  subLLM?: RLMModelInput;
}

/** One document as model code sees it in `context`. */
export interface RLMDocument {
  id: string;
  text: string;
  metadata: Record<string, JSONValue>;
}

// LlamaIndex does not export its query param types; these are their shapes.
type StreamingQueryParams = { query: QueryType; stream: true };
type NonStreamingQueryParams = { query: QueryType; stream?: false };

/** `query()` params, plus a signal that aborts the run (LlamaIndex's own params have none). */
export type RLMQueryParams = (StreamingQueryParams | NonStreamingQueryParams) & { signal?: AbortSignal };

const currentSignal = new AsyncLocalStorage<AbortSignal | undefined>();

declare module "@llamaindex/core/global" {
  interface LlamaIndexEventMaps {
    /** Every step of an RLMQueryEngine run (iterations, code, sub-calls...), as the RLM event. */
    "rlm-step": RLMEvent;
  }
}

/**
 * Document QA with a Recursive Language Model. The documents reach the sandbox as an array of
 * `{ id, text, metadata }` (`context`), never the root model's prompt; the root model searches them with code and
 * reads what matters with sub-calls. `sourceNodes` are the nodes the run actually read: each node's score is its
 * share of what the run read (characters its code got back from the node's text, plus matches found there), so
 * a node never touched is not listed and the scores sum to 1.
 */
export class RLMQueryEngine extends BaseQueryEngine {
  constructor(private readonly options: RLMQueryEngineOptions) {
    super();
    if (!options.documents && !options.retriever && !options.index) {
      throw new RLMInvalidArgumentError({
        argument: "documents",
        message:
          "RLMQueryEngine needs something to read: pass `documents` (Documents or nodes), a `retriever` or an `index`.",
      });
    }
  }

  override query(params: StreamingQueryParams & { signal?: AbortSignal }): Promise<AsyncIterable<EngineResponse>>;
  override query(params: NonStreamingQueryParams & { signal?: AbortSignal }): Promise<EngineResponse>;
  override query(params: RLMQueryParams): Promise<EngineResponse | AsyncIterable<EngineResponse>> {
    return currentSignal.run(params.signal, () => super.query(params as NonStreamingQueryParams));
  }

  async _query(query: QueryType, stream?: boolean): Promise<EngineResponse | AsyncIterable<EngineResponse>> {
    const text = typeof query === "string" ? query : extractText(query.query);
    const nodes = await this.nodesFor(query);
    const result = await this.run(text, nodes);
    const sourceNodes = sourcesOf(nodes, result.contextAccess);
    if (!stream) {
      const response = EngineResponse.fromResponse(result.answer, false, sourceNodes);
      response.metadata = {
        rlm: {
          stopReason: result.stopReason,
          iterations: result.iterations,
          usage: result.usage,
          trajectory: result.trajectory,
        },
      };
      return response;
    }
    return (async function* () {
      for (const delta of result.answer.match(/[\s\S]{1,64}/g) ?? [""]) {
        yield EngineResponse.fromChatResponseChunk({ delta, raw: null }, sourceNodes);
      }
    })();
  }

  protected _getPrompts(): Record<string, never> {
    return {};
  }

  protected _updatePrompts(): void {}

  protected _getPromptModules(): Record<string, never> {
    return {};
  }

  private async nodesFor(query: QueryType): Promise<BaseNode[]> {
    const { documents, retriever, index, similarityTopK = 20 } = this.options;
    const narrowing = retriever ?? index?.asRetriever({ similarityTopK });
    if (narrowing) return (await narrowing.retrieve(query)).map((n) => n.node);
    return documents ?? [];
  }

  private async run(query: string, nodes: BaseNode[]): Promise<RLMResult> {
    const {
      documents: _d,
      retriever: _r,
      index: _i,
      similarityTopK: _k,
      llm,
      subLLM,
      sandbox,
      ...settings
    } = this.options;
    const model = toModel(llm ?? defaultLLM());
    const context: RLMDocument[] = nodes.map((node) => ({
      id: node.id_,
      text: node.getContent(MetadataMode.NONE),
      metadata: JSON.parse(JSON.stringify(node.metadata ?? {})) as Record<string, JSONValue>,
    }));
    const rlm = createRLM({
      ...settings,
      model,
      ...(subLLM ? { subModel: toModel(subLLM) } : {}),
      // Every document's text is a host-backed Text, so what the run reads of it is counted.
      sandbox: { ...sandbox, hostStringKeys: [...(sandbox?.hostStringKeys ?? []), "text"] },
      onEvent: (event) => Settings.callbackManager.dispatchEvent("rlm-step", event),
    });
    const signal = currentSignal.getStore();
    return rlm.run({ query, context: context as unknown as JSONValue, ...(signal ? { signal } : {}) });
  }
}

function defaultLLM(): LLM {
  try {
    return Settings.llm;
  } catch {
    throw new RLMInvalidArgumentError({
      argument: "llm",
      message:
        "no `llm` was given and LlamaIndex's `Settings.llm` is not set. Pass `llm` (a LlamaIndex LLM or a core LanguageModel) or set `Settings.llm`.",
    });
  }
}

function toModel(model: RLMModelInput): LanguageModel {
  return isLanguageModel(model) ? model : fromLlamaIndex(model);
}

/** The nodes the run read, scored by their share of what it read. */
export function sourcesOf(nodes: BaseNode[], access: ContextAccess[]): NodeWithScore[] {
  const weight = new Map<number, number>();
  for (const a of access) {
    const [index, key] = a.path;
    if (typeof index !== "number" || key !== "text") continue;
    const w = a.charsRead + a.hits;
    if (w > 0) weight.set(index, (weight.get(index) ?? 0) + w);
  }
  const total = [...weight.values()].reduce((s, w) => s + w, 0);
  return [...weight.entries()]
    .sort((a, b) => b[1] - a[1])
    .flatMap(([index, w]) => {
      const node = nodes[index];
      return node ? [{ node, score: w / total }] : [];
    });
}
