import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV4CallOptions,
  LanguageModelV4FinishReason,
  LanguageModelV4StreamPart,
  SharedV3Warning,
  SharedV4Warning,
} from "@ai-sdk/provider";
import type { RLMLanguageModel } from "./rlm-language-model.js";

/**
 * The same RLM as an AI SDK `LanguageModelV3`, for `ai` 6 (which rejects V4 models). It runs the V4 model and
 * maps the few differences: finish reasons and warnings V3 lacks, and stream parts V3 has no type for.
 */
export class RLMLanguageModelV3 implements LanguageModelV3 {
  readonly specificationVersion = "v3" as const;
  readonly provider = "rlm";
  readonly supportedUrls: Record<string, RegExp[]> = {};

  constructor(private readonly model: RLMLanguageModel) {}

  get modelId(): string {
    return this.model.modelId;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const result = await this.model.doGenerate(options as unknown as LanguageModelV4CallOptions);
    const content = result.content.filter(
      (c) => c.type === "text" || c.type === "reasoning",
    ) as LanguageModelV3Content[];
    return {
      content,
      finishReason: toV3FinishReason(result.finishReason),
      usage: result.usage,
      ...(result.providerMetadata ? { providerMetadata: result.providerMetadata } : {}),
      ...(result.response ? { response: result.response } : {}),
      warnings: result.warnings.map(toV3Warning),
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const { stream } = await this.model.doStream(options as unknown as LanguageModelV4CallOptions);
    return {
      stream: stream.pipeThrough(
        new TransformStream<LanguageModelV4StreamPart, LanguageModelV3StreamPart>({
          transform(part, controller) {
            if (part.type === "stream-start")
              controller.enqueue({ type: "stream-start", warnings: part.warnings.map(toV3Warning) });
            else if (part.type === "finish")
              controller.enqueue({ ...part, finishReason: toV3FinishReason(part.finishReason) });
            else if (part.type === "ping" || part.type === "custom" || part.type === "reasoning-file") return;
            else controller.enqueue(part as LanguageModelV3StreamPart);
          },
        }),
      ),
    };
  }
}

function toV3FinishReason(reason: LanguageModelV4FinishReason): LanguageModelV3FinishReason {
  return { unified: reason.unified === "interrupted" ? "other" : reason.unified, raw: reason.raw };
}

function toV3Warning(warning: SharedV4Warning): SharedV3Warning {
  if (warning.type === "deprecated") return { type: "other", message: `${warning.setting}: ${warning.message}` };
  return warning as SharedV3Warning;
}
