export { type FromAISDKOptions, fromAISDK } from "./from-ai-sdk.js";
