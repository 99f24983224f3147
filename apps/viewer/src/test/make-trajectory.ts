import { createRLM, type Trajectory } from "@rlm/core";
import { createScriptedModel } from "@rlm/core/test";

const js = (code: string) => `\`\`\`js\n${code}\n\`\`\``;

/**
 * A real trajectory from the engine: a root run with a `fanOut`-way concurrent fan-out of sub-calls and an
 * `rlm_query` two levels deep (the grandchild fans out too).
 */
export async function makeTrajectory(fanOut: number): Promise<Trajectory> {
  const model = createScriptedModel({
    replies: (r) => {
      const query = /Query: (.*)/.exec(r.messages[1]?.content ?? "")?.[1] ?? "";
      if (query === "top") {
        return js(
          `const parts = await Promise.all(Array.from({ length: ${fanOut} }, (_, i) => llm_query('chunk ' + i)));\nconst deep = await rlm_query('middle', 'child context');\nFINAL(parts.length + ' parts; ' + deep)`,
        );
      }
      if (query === "middle") return js("const d = await rlm_query('bottom', context);\nFINAL('middle<' + d + '>')");
      return js("const r = await llm_query_batched(['x', 'y', 'z']);\nprint(r)\nFINAL('bottom:' + r.join(''))");
    },
  });
  const subModel = createScriptedModel({
    modelId: "sub",
    replies: (r) => `answer to ${r.prompt}`,
    latencyMs: 15,
    usage: { inputTokens: 12, outputTokens: 4 },
  });
  const result = await createRLM({ model, subModel, maxDepth: 2, concurrency: 25, maxLLMCalls: 5_000 }).run({
    query: "top",
    context: "root context",
  });
  return result.trajectory;
}
