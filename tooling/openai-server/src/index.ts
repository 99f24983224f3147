export {
  type InjectedFault,
  type OpenAITestServer,
  type OpenAITestServerOptions,
  type RecordedRequest,
  startOpenAITestServer,
} from "./openai-test-server.js";
