import type { CellTrace, IterationTrace, RunTrace, SubcallTrace, Trajectory } from "@rlm/core";

/** The version of the trajectory format this viewer reads. */
export const SUPPORTED_VERSION = 1;

export type NodeKind = "run" | "iteration" | "cell" | "subcall";

/** One row of the call tree: a run, one of its iterations, a code cell, or a sub-call. */
export interface TreeNode {
  id: string;
  kind: NodeKind;
  parentId: string | undefined;
  /** Nesting level in the tree (for indentation). */
  level: number;
  /** Recursion depth of the run it belongs to. */
  depth: number;
  label: string;
  startedAt: number;
  endedAt: number;
  /** For sub-calls: time spent waiting for a concurrency permit before the request went out. */
  queuedMs?: number;
  tokens: number;
  /** Text searched by the search box. */
  searchText: string;
  error?: string;
  children: string[];
  /** The trace object, for the detail panel. */
  run?: RunTrace;
  iteration?: IterationTrace;
  cell?: CellTrace;
  subcall?: SubcallTrace;
}

export interface TrajectoryModel {
  trajectory: Trajectory;
  nodes: Map<string, TreeNode>;
  rootId: string;
  startedAt: number;
  endedAt: number;
  totals: { tokens: number; iterations: number; subcalls: number; runs: number; maxConcurrency: number };
}

/** Thrown for files that are not trajectories or are of a version this viewer cannot read. */
export class TrajectoryFormatError extends Error {
  override name = "TrajectoryFormatError";
}

/** Parses and checks a file's text. Throws `TrajectoryFormatError` with a message for people. */
export function parseTrajectory(text: string): Trajectory {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TrajectoryFormatError(
      `This file is not JSON (${(error as Error).message}). Pick a trajectory file written by rlm (--trajectory out.json, or result.trajectory).`,
    );
  }
  const t = data as Partial<Trajectory> | null;
  if (t === null || typeof t !== "object" || t.format !== "rlm-trajectory") {
    throw new TrajectoryFormatError(
      'This JSON is not an rlm trajectory (it has no "format": "rlm-trajectory"). Pick a file written by rlm (--trajectory out.json, or result.trajectory).',
    );
  }
  if (t.version !== SUPPORTED_VERSION) {
    throw new TrajectoryFormatError(
      `This trajectory is version ${String(t.version)}; this viewer reads version ${SUPPORTED_VERSION}. Use a viewer from the same rlm release as the file.`,
    );
  }
  if (!t.root || typeof t.root !== "object" || !Array.isArray(t.root.iterations)) {
    throw new TrajectoryFormatError("This trajectory is incomplete: it has no root run with iterations.");
  }
  return t as Trajectory;
}

const usageTokens = (u: { inputTokens: number; outputTokens: number } | undefined) =>
  u ? u.inputTokens + u.outputTokens : 0;

/** Flattens the run tree into nodes with ids, times, tokens and searchable text. */
export function buildModel(trajectory: Trajectory): TrajectoryModel {
  const nodes = new Map<string, TreeNode>();
  const totals = { tokens: 0, iterations: 0, subcalls: 0, runs: 0, maxConcurrency: 0 };
  const intervals: Array<[number, number]> = [];

  const add = (node: TreeNode) => {
    nodes.set(node.id, node);
    if (node.parentId) nodes.get(node.parentId)?.children.push(node.id);
    return node;
  };

  const addRun = (run: RunTrace, parentId: string | undefined, level: number): TreeNode => {
    totals.runs++;
    const runEnd = run.endedAt ?? lastTime(run);
    const runNode = add({
      id: run.runId,
      kind: "run",
      parentId,
      level,
      depth: run.depth,
      label: `${run.depth === 0 ? "Run" : `Child run (depth ${run.depth})`}: ${oneLine(run.query, 90)}`,
      startedAt: run.startedAt,
      endedAt: runEnd,
      tokens: 0,
      searchText: `${run.query}\n${run.answer ?? ""}`,
      ...(run.error ? { error: `${run.error.name}: ${run.error.message}` } : {}),
      children: [],
      run,
    });
    for (const iteration of run.iterations) {
      totals.iterations++;
      const tokens = usageTokens(iteration.response?.usage);
      totals.tokens += tokens;
      runNode.tokens += tokens;
      const iterationId = `${run.runId}/i${iteration.iteration}`;
      const cellsEnd = iteration.cells.reduce((m, c) => Math.max(m, c.startedAt + c.durationMs), 0);
      add({
        id: iterationId,
        kind: "iteration",
        parentId: run.runId,
        level: level + 1,
        depth: run.depth,
        label: `Iteration ${iteration.iteration}${iteration.cells.length ? ` · ${iteration.cells.length} cell${iteration.cells.length > 1 ? "s" : ""}` : ""}`,
        startedAt: iteration.startedAt,
        endedAt: Math.max(cellsEnd, iteration.startedAt + (iteration.response?.durationMs ?? 0)),
        tokens,
        searchText: `${iteration.request.map((m) => m.content).join("\n")}\n${iteration.response?.text ?? ""}`,
        children: [],
        iteration,
      });
      for (const [index, cell] of iteration.cells.entries()) {
        const cellId = `${iterationId}/c${index}`;
        add({
          id: cellId,
          kind: "cell",
          parentId: iterationId,
          level: level + 2,
          depth: run.depth,
          label: `Code cell ${cell.block + 1}${cell.subcalls.length ? ` · ${cell.subcalls.length} sub-call${cell.subcalls.length > 1 ? "s" : ""}` : ""}${cell.final ? " · FINAL" : ""}`,
          startedAt: cell.startedAt,
          endedAt: cell.startedAt + cell.durationMs,
          tokens: 0,
          searchText: `${cell.code}\n${cell.output}`,
          ...(cell.error ? { error: `${cell.error.name}: ${cell.error.message}` } : {}),
          children: [],
          cell,
        });
        for (const call of cell.subcalls) {
          totals.subcalls++;
          const tokens = usageTokens(call.usage);
          totals.tokens += tokens;
          runNode.tokens += tokens;
          const end = call.endedAt ?? call.startedAt;
          // Concurrency counts model requests actually in flight, not ones waiting for a permit, nor child runs.
          if (call.requestStartedAt !== undefined && call.requestEndedAt !== undefined)
            intervals.push([call.requestStartedAt, call.requestEndedAt]);
          const callNode = add({
            id: call.callId,
            kind: "subcall",
            parentId: cellId,
            level: level + 3,
            depth: run.depth,
            label: `${call.kind === "rlm" ? "rlm_query" : call.kind === "tool" ? `tool ${call.target}` : "llm_query"}: ${oneLine(call.prompt, 70)}${call.cached ? " (cached)" : ""}`,
            startedAt: call.startedAt,
            endedAt: end,
            ...(call.requestStartedAt !== undefined && call.requestStartedAt > call.startedAt
              ? { queuedMs: call.requestStartedAt - call.startedAt }
              : {}),
            tokens,
            searchText: `${call.prompt}\n${call.response ?? ""}\n${call.error ?? ""}`,
            ...(call.ok === false && call.error ? { error: call.error } : {}),
            children: [],
            subcall: call,
          });
          if (call.child) addRun(call.child, callNode.id, level + 4);
        }
      }
    }
    return runNode;
  };

  const root = addRun(trajectory.root, undefined, 0);
  totals.maxConcurrency = maxOverlap(intervals);
  let endedAt = root.endedAt;
  for (const node of nodes.values()) endedAt = Math.max(endedAt, node.endedAt);
  return { trajectory, nodes, rootId: root.id, startedAt: root.startedAt, endedAt, totals };
}

/** The rows shown: nodes whose ancestors are all expanded, in tree order. */
export function visibleRows(
  model: TrajectoryModel,
  expanded: ReadonlySet<string>,
  filter?: ReadonlySet<string>,
): TreeNode[] {
  const rows: TreeNode[] = [];
  const walk = (id: string) => {
    const node = model.nodes.get(id);
    if (!node) return;
    if (filter && !filter.has(id)) return;
    rows.push(node);
    if (expanded.has(id) || filter) for (const child of node.children) walk(child);
  };
  walk(model.rootId);
  return rows;
}

/** Ids of the nodes matching `term` (case-insensitive) and all their ancestors, so matches show in context. */
export function searchNodes(model: TrajectoryModel, term: string): Set<string> {
  const needle = term.toLowerCase();
  const keep = new Set<string>();
  for (const node of model.nodes.values()) {
    if (!node.searchText.toLowerCase().includes(needle) && !node.label.toLowerCase().includes(needle)) continue;
    for (
      let n: TreeNode | undefined = node;
      n && !keep.has(n.id);
      n = n.parentId ? model.nodes.get(n.parentId) : undefined
    )
      keep.add(n.id);
  }
  return keep;
}

/**
 * Places intervals on lanes so that overlapping ones sit side by side: each goes on the first lane free at its
 * start. Returns each interval's lane and the number of lanes.
 */
export function assignLanes(intervals: Array<{ start: number; end: number }>): { lanes: number[]; count: number } {
  const order = intervals.map((_, i) => i).sort((a, b) => (intervals[a]?.start ?? 0) - (intervals[b]?.start ?? 0));
  const laneEnds: number[] = [];
  const lanes = new Array<number>(intervals.length).fill(0);
  for (const i of order) {
    const { start, end } = intervals[i] as { start: number; end: number };
    let lane = laneEnds.findIndex((e) => e <= start);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(end);
    } else {
      laneEnds[lane] = end;
    }
    lanes[i] = lane;
  }
  return { lanes, count: laneEnds.length };
}

function maxOverlap(intervals: Array<[number, number]>): number {
  const points: Array<[number, number]> = [];
  for (const [s, e] of intervals) points.push([s, 1], [Math.max(e, s), -1]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let best = 0;
  for (const [, d] of points) {
    current += d;
    best = Math.max(best, current);
  }
  return best;
}

function lastTime(run: RunTrace): number {
  let t = run.startedAt;
  for (const it of run.iterations) {
    t = Math.max(t, it.startedAt + (it.response?.durationMs ?? 0));
    for (const c of it.cells) t = Math.max(t, c.startedAt + c.durationMs);
  }
  return t;
}

export function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
