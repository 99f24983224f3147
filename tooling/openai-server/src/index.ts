export { type GeminiTestServer, type RecordedGeminiRequest, startGeminiTestServer } from "./gemini-test-server.js";
export {
  type InjectedFault,
  type OpenAITestServer,
  type OpenAITestServerOptions,
  type RecordedRequest,
  startOpenAITestServer,
} from "./openai-test-server.js";
