import type { Budget } from "../budget/budget.js";
import type { Semaphore } from "../budget/semaphore.js";
import { describeContext } from "../context/describe-context.js";
import { RLMBudgetExceededError } from "../errors/budget-exceeded-error.js";
import { RLMSandboxError } from "../errors/sandbox-error.js";
import { epochMs } from "../events/epoch-ms.js";
import type { RLMEvent } from "../events/rlm-event.js";
import { DEFAULT_STACK_LIMIT_BYTES, MAX_TRANSCRIPT_REPLY_CHARS } from "../limits.js";
import type { ChatMessage } from "../model/language-model.js";
import { truncateMiddle } from "../sandbox/output-buffer.js";
import { type CellResult, type ContextAccess, Sandbox } from "../sandbox/sandbox.js";
import type { ResolvedSettings } from "../settings/resolve-settings.js";
import { callModel, type ModelReply } from "./call-model.js";
import { findProseFinal, parseResponse } from "./parse-response.js";
import type { StopReason } from "./rlm-result.js";
import type { SubcallCache } from "./subcall-cache.js";
import { SubcallRouter } from "./subcall-router.js";
import { buildQueryPrompt, buildSystemPrompt } from "./system-prompt.js";

/** Everything the runs of one tree share. */
export interface RunTree {
  settings: ResolvedSettings;
  budget: Budget;
  semaphore: Semaphore;
  cache: SubcallCache | undefined;
  /** Fires on the caller's abort and on the wall-clock budget. */
  signal: AbortSignal;
  emit: (event: RLMEvent) => void;
  nextId: (prefix: string) => string;
}

export interface RunRequest {
  query: string;
  context: unknown;
  depth: number;
  parentRunId?: string;
  parentCallId?: string;
}

export interface RunOutcome {
  runId: string;
  contextAccess?: ContextAccess[];
  answer: string;
  value?: unknown;
  stopReason: StopReason;
  iterations: number;
}

interface Final {
  answer: string;
  json?: string;
  source: "code" | "prose" | "forced";
}

const NO_CODE_HINT =
  "Your reply had no ```js code block and no FINAL(...). Write code to explore `context`, or answer with FINAL(your answer).";
const FORCE_FINAL_PROMPT =
  "You have used all your turns. Do not write code. Reply now with your best answer as FINAL(your answer), or FINAL_VAR(variable_name) to return a variable.";

/**
 * One run of the RLM loop at some depth: the root model writes code, the sandbox runs it, the output goes back,
 * until `FINAL`. Child runs (`rlm_query`) call this again with the same tree. Emits every step as an event.
 * Returns on `FINAL` or a budget stop; throws on abort and on permanent model errors (after emitting `run-error`).
 */
export async function runRLM(tree: RunTree, request: RunRequest): Promise<RunOutcome> {
  const { settings, budget } = tree;
  const runId = tree.nextId("run");
  const startedAt = epochMs();
  const base = () => ({ runId, depth: request.depth, timestamp: epochMs() });
  const description = describeContext(request.context);
  tree.emit({
    type: "run-start",
    ...base(),
    ...(request.parentRunId ? { parentRunId: request.parentRunId, parentCallId: request.parentCallId } : {}),
    query: request.query,
    context: description,
    modelId: settings.model.modelId,
    subModelId: settings.subModel.modelId,
  });

  let iterations = 0;
  const finish = (stopReason: StopReason, final: Final | undefined): RunOutcome => {
    const answer = final?.answer ?? "";
    if (final) tree.emit({ type: "final-answer", ...base(), answer, source: final.source });
    const outcome: RunOutcome = { runId, answer, stopReason, iterations };
    if (final?.json !== undefined) outcome.value = JSON.parse(final.json);
    // The root's run-finish is emitted by createRLM, with the complete result.
    if (request.depth > 0)
      tree.emit({ type: "run-finish", ...base(), answer, stopReason, iterations, durationMs: epochMs() - startedAt });
    return outcome;
  };
  const stopForBudget = (): RunOutcome => {
    const exhausted = budget.exhausted as NonNullable<Budget["exhausted"]>;
    tree.emit({
      type: "budget-exceeded",
      ...base(),
      stopReason: exhausted.stopReason,
      detail: exhausted.error.message,
    });
    return finish(exhausted.stopReason, undefined);
  };

  const router = new SubcallRouter(tree, {
    runId,
    depth: request.depth,
    iteration: () => iterations,
    runChild: (child) => runRLM(tree, child),
  });
  // The sandbox starts (and the context travels to it) while the root model writes its first reply.
  const sandboxReady = Sandbox.create({
    context: request.context,
    ...settings.sandbox,
    stackLimitBytes: DEFAULT_STACK_LIMIT_BYTES,
    toolNames: Object.keys(settings.tools),
    workerHeapMb: workerHeapMb(settings.sandbox.copyContextToWorker ? description.totalChars : 0),
    onCall: (call, signal) => router.handle(call, signal),
    signal: tree.signal,
  });
  sandboxReady.catch(() => undefined); // a failure surfaces at first use
  const drive = async (): Promise<RunOutcome> => {
    try {
      const transcript: ChatMessage[] = [
        {
          role: "system",
          content: buildSystemPrompt({
            maxIterations: settings.maxIterations,
            depth: request.depth,
            maxDepth: settings.maxDepth,
            tools: Object.entries(settings.tools).map(([name, tool]) => ({
              name,
              ...(tool.description ? { description: tool.description } : {}),
            })),
            hostStringMinChars: settings.sandbox.hostStringMinChars,
            hostStringKeys: settings.sandbox.hostStringKeys,
            maxOutputChars: settings.sandbox.maxOutputChars,
          }),
        },
        { role: "user", content: buildQueryPrompt(request.query, description) },
      ];
      let unsent = transcript.length;

      const ask = async (): Promise<ModelReply> => {
        tree.emit({
          type: "model-request",
          ...base(),
          iteration: iterations,
          messages: transcript.slice(transcript.length - unsent),
          promptChars: transcriptChars(transcript),
        });
        unsent = 0;
        const reply = await callModel({
          model: settings.model,
          messages: transcript,
          role: "root",
          budget,
          semaphore: tree.semaphore,
          signal: tree.signal,
          maxRetries: settings.maxRetries,
          modelTimeoutMs: settings.modelTimeoutMs,
          onRetry: (retry) => tree.emit({ type: "model-retry", ...base(), ...retry }),
        });
        tree.emit({
          type: "model-response",
          ...base(),
          iteration: iterations,
          text: reply.text,
          usage: reply.usage,
          durationMs: reply.durationMs,
        });
        transcript.push({ role: "assistant", content: truncateMiddle(reply.text, MAX_TRANSCRIPT_REPLY_CHARS) });
        return reply;
      };
      const execute = async (code: string, block: number): Promise<CellResult> => {
        const ready = await sandboxReady;
        const startedAt = epochMs();
        const cell = await ready.execute(code, tree.signal);
        tree.emit({
          type: "code-executed",
          ...base(),
          iteration: iterations,
          block,
          code,
          output: cell.output,
          outputChars: cell.outputChars,
          truncated: cell.truncated,
          ...(cell.error ? { error: cell.error } : {}),
          final: cell.final !== undefined,
          sandboxReset: cell.reset,
          startedAt,
          durationMs: cell.durationMs,
          cpuMs: cell.cpuMs,
        });
        return cell;
      };
      const readVariable = async (name: string): Promise<{ final?: Final; error?: string }> => {
        const cell = await execute(`FINAL_VAR(${JSON.stringify(name)})`, 0);
        if (cell.final) return { final: { ...cell.final, source: "prose" } };
        return { error: cell.output };
      };

      while (true) {
        budget.assertCanCall();
        if (!budget.takeIteration()) break;
        iterations++;
        tree.emit({ type: "iteration-start", ...base(), iteration: iterations });
        const reply = await ask();
        const parsed = parseResponse(reply.text);
        const feedback: string[] = [];
        let final: Final | undefined;
        for (const [i, code] of parsed.blocks.entries()) {
          const cell = await execute(code, i);
          feedback.push(renderCell(cell, i, parsed.blocks.length));
          if (cell.final) {
            final = { ...cell.final, source: "code" };
            break;
          }
          if (budget.exhausted) break;
        }
        if (final === undefined && !budget.exhausted) {
          const prose = findProseFinal(parsed.prose);
          if (prose?.kind === "final") final = { answer: prose.answer, source: "prose" };
          else if (prose?.kind === "final-var") {
            const read = await readVariable(prose.name);
            if (read.final) final = read.final;
            else feedback.push(`FINAL_VAR(${prose.name}) failed:\n${read.error}`);
          }
        }
        if (final) return finish("final", final);
        if (budget.exhausted) return stopForBudget();
        if (parsed.unclosedBlock) feedback.push("Your last code block was not closed with ``` and was not run.");
        if (parsed.blocks.length === 0 && !parsed.unclosedBlock) feedback.push(NO_CODE_HINT);
        transcript.push({ role: "user", content: feedback.join("\n\n") });
        unsent = 2;
      }

      // Out of turns: ask once more, for an answer without code.
      transcript.push({ role: "user", content: FORCE_FINAL_PROMPT });
      unsent++;
      const reply = await ask();
      const parsed = parseResponse(reply.text);
      const prose = findProseFinal(parsed.prose);
      let final: Final = { answer: (prose?.kind === "final" ? prose.answer : reply.text).trim(), source: "forced" };
      if (prose?.kind === "final-var") {
        const read = await readVariable(prose.name);
        if (read.final) final = { ...read.final, source: "forced" };
      }
      return finish("max-iterations", final);
    } catch (error) {
      if (budget.exhausted && (RLMBudgetExceededError.isInstance(error) || tree.signal.aborted)) return stopForBudget();
      const e = error instanceof Error ? error : new Error(String(error));
      tree.emit({
        type: "run-error",
        ...base(),
        error: {
          name: e.name,
          message: e.message,
          ...((e as { code?: unknown }).code ? { code: String((e as { code?: unknown }).code) } : {}),
        },
      });
      throw error;
    }
  };
  let outcome: RunOutcome;
  let leak: string | undefined;
  let access: ContextAccess[] = [];
  try {
    outcome = await drive();
  } finally {
    const sandbox = await sandboxReady.catch(() => undefined);
    access = sandbox?.contextAccess() ?? [];
    // Freeing the sandbox needs a word with its worker, which may be busy with other runs' cells: only the debug
    // build (whose leak report is a finding) makes the run wait for it.
    if (settings.sandbox.debug) leak = (await sandbox?.dispose())?.leak;
    else void sandbox?.dispose();
  }
  // Only QuickJS's debug build reports leaks; in tests of the engine a leak must fail loudly.
  if (leak) throw new RLMSandboxError({ message: `the sandbox leaked QuickJS handles: ${leak}` });
  return { ...outcome, contextAccess: access };
}

function renderCell(cell: CellResult, index: number, count: number): string {
  const title = count > 1 ? `Output of code block ${index + 1} of ${count}` : "Output";
  const body = cell.output.length > 0 ? cell.output.replace(/\n$/, "") : "(no output)";
  const reset = cell.reset ? "\n(The sandbox was restarted: variables from earlier turns are gone.)" : "";
  return `${title}:\n\`\`\`\n${body}\n\`\`\`${reset}`;
}

/** The sandbox worker's V8 heap: room for a copied-in context's strings (up to 2 bytes a character, plus copies made
 * while loading and searching) over a fixed base. */
function workerHeapMb(contextChars: number): number {
  return 256 + Math.ceil((contextChars * 6) / (1024 * 1024));
}

function transcriptChars(transcript: ChatMessage[]): number {
  let n = 0;
  for (const m of transcript) n += m.content.length;
  return n;
}
