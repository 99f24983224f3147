#!/usr/bin/env node
/** Serves the offline demo model over the OpenAI protocol: `rlm-openai-test-server [port]`. For manual testing. */
import { createDemoModel } from "@rlm/core/demo";
import { startOpenAITestServer } from "./openai-test-server.js";

const server = await startOpenAITestServer({ model: createDemoModel(), port: Number(process.argv[2] ?? 0) });
console.log(`OpenAI-compatible test server (offline demo model) on ${server.url}`);
process.on("SIGINT", () => void server.close().then(() => process.exit(0)));
