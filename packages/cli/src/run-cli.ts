import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import {
  createRLM,
  type JSONValue,
  RLMAbortedError,
  RLMError,
  RLMInvalidArgumentError,
  type RLMResult,
  type Trajectory,
} from "@rlm/core";
import { generateDemoCorpus, generateOrders } from "@rlm/core/demo";
import { loadContext } from "./load-context.js";
import { type CLIOptions, parseCLIArgs, USAGE } from "./parse-cli-args.js";
import { ProgressView } from "./progress-view.js";
import { resolveModels } from "./resolve-models.js";
import { CLIUsageError } from "./usage-error.js";
import { viewTrajectory } from "./view-trajectory.js";

export interface CLIEnvironment {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** Aborts the run (the binary wires Ctrl-C to it). */
  signal?: AbortSignal;
}

/** Runs the CLI; resolves with the process exit code (0 ok, 1 run failed, 2 usage error, 130 interrupted). */
export async function runCLI(argv: string[], io: CLIEnvironment): Promise<number> {
  let options: CLIOptions;
  try {
    options = parseCLIArgs(argv);
  } catch (error) {
    if (error instanceof CLIUsageError) {
      io.stderr.write(`rlm: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options.command === "help") {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.command === "version") {
    const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
    io.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (options.command === "view") {
    try {
      await viewTrajectory(options.file as string, {
        port: options.port ?? 0,
        ...(io.signal ? { signal: io.signal } : {}),
        onListening: (url) => io.stdout.write(`Trajectory viewer: ${url}\n(Ctrl-C to stop)\n`),
      });
      return 0;
    } catch (error) {
      if (error instanceof CLIUsageError) {
        io.stderr.write(`${error.message}\n`);
        return 2;
      }
      throw error;
    }
  }
  let progress = new ProgressView(io.stderr, false);
  try {
    const models = resolveModels(options, io.env);
    io.stderr.write(`${models.description}\n`);
    const tasks: Array<{ query: string; context: JSONValue }> = [];
    if (options.command === "demo") {
      const corpus = generateDemoCorpus({ ...(options.sizeChars ? { totalChars: options.sizeChars } : {}) });
      const chars = corpus.documents.reduce((n, d) => n + d.text.length, 0);
      io.stderr.write(
        `Generated ${corpus.documents.length} memos, ${chars.toLocaleString("en-US")} characters (about ${Math.round(chars / 4).toLocaleString("en-US")} tokens): far beyond any context window.\n`,
      );
      tasks.push({ query: corpus.question, context: corpus.documents as unknown as JSONValue });
      tasks.push({ query: "How many orders from Berlin were shipped?", context: generateOrders({ count: 50_000 }) });
    } else {
      tasks.push({ query: options.query as string, context: await loadContext(options.context as string) });
    }
    const rlm = createRLM({
      ...options.settings,
      model: models.model,
      subModel: models.subModel,
      ...(models.offline && options.settings.concurrency === undefined ? { concurrency: 16 } : {}),
      onEvent: (event) => progress.onEvent(event),
    });
    for (const task of tasks) {
      if (task !== tasks[0])
        io.stderr.write(
          `\nNext, an aggregation over ${String(task.context).split("\n").length.toLocaleString("en-US")} order records.\n`,
        );
      io.stderr.write(`Question: ${task.query}\n\n`);
      progress = new ProgressView(io.stderr, !options.quiet);
      const result = await rlm.run({ ...task, ...(io.signal ? { signal: io.signal } : {}) });
      progress.stop();
      await saveTrajectory(options, result.trajectory, io);
      printResult(result, options, io);
    }
    return 0;
  } catch (error) {
    progress.stop();
    if (error instanceof CLIUsageError || RLMInvalidArgumentError.isInstance(error)) {
      io.stderr.write(`rlm: ${error.message}\n`);
      return 2;
    }
    const trajectory = (error as { trajectory?: Trajectory }).trajectory;
    if (trajectory) await saveTrajectory(options, trajectory, io);
    if (RLMAbortedError.isInstance(error)) {
      io.stderr.write("\nStopped (interrupted).\n");
      return 130;
    }
    const message = RLMError.isInstance(error) || error instanceof Error ? error.message : String(error);
    io.stderr.write(`\nrlm: the run failed: ${message}\n`);
    return 1;
  }
}

async function saveTrajectory(options: CLIOptions, trajectory: Trajectory, io: CLIEnvironment): Promise<void> {
  if (!options.trajectory) return;
  await writeFile(options.trajectory, JSON.stringify(trajectory));
  io.stderr.write(`Trajectory written to ${options.trajectory}\n`);
}

function printResult(result: RLMResult, options: CLIOptions, io: CLIEnvironment): void {
  const { usage } = result;
  if (options.json) {
    const { trajectory: _omitted, ...rest } = result;
    io.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
    return;
  }
  io.stdout.write(`\n${result.answer}\n\n`);
  const tokens = (usage.inputTokens + usage.outputTokens).toLocaleString("en-US");
  const subcalls = usage.llmCalls - result.iterations;
  io.stderr.write(
    `${result.iterations} iterations · ${subcalls} sub-calls${usage.cacheHits ? ` (+${usage.cacheHits} cached)` : ""} · ${tokens} tokens · ${(result.durationMs / 1000).toFixed(1)}s · stop: ${result.stopReason}\n`,
  );
}
