export { type FromLlamaIndexOptions, fromLlamaIndex } from "./from-llamaindex.js";
export {
  type NodeRetriever,
  type RLMDocument,
  type RLMModelInput,
  RLMQueryEngine,
  type RLMQueryEngineOptions,
  type RLMQueryParams,
  sourcesOf,
} from "./rlm-query-engine.js";
