import { describe, expect, it } from "vitest";
import { makeTrajectory } from "./test/make-trajectory.js";
import {
  assignLanes,
  buildModel,
  parseTrajectory,
  searchNodes,
  TrajectoryFormatError,
  visibleRows,
} from "./trajectory-model.js";

describe("parseTrajectory", () => {
  it("says clearly when a file is not JSON, not a trajectory, or of an unknown version", () => {
    expect(() => parseTrajectory("{oops")).toThrow(TrajectoryFormatError);
    expect(() => parseTrajectory("{oops")).toThrow(/not JSON/);
    expect(() => parseTrajectory('{"hello": 1}')).toThrow(/not an rlm trajectory/);
    expect(() => parseTrajectory('{"format": "rlm-trajectory", "version": 99, "root": {}}')).toThrow(
      /version 99; this viewer reads version 1/,
    );
    expect(() => parseTrajectory('{"format": "rlm-trajectory", "version": 1}')).toThrow(/incomplete/);
  });
});

describe("buildModel", () => {
  it("flattens a depth-2 run with a 100-way fan-out into a tree with times, tokens and concurrency", async () => {
    const model = buildModel(parseTrajectory(JSON.stringify(await makeTrajectory(100))));
    expect(model.totals.runs).toBe(3);
    expect(model.totals.subcalls).toBe(100 + 1 + 1 + 3);
    expect(model.totals.maxConcurrency).toBeGreaterThanOrEqual(20);
    expect(model.totals.maxConcurrency).toBeLessThanOrEqual(25); // the run's concurrency limit
    const depths = new Set([...model.nodes.values()].filter((n) => n.kind === "run").map((n) => n.depth));
    expect(depths).toEqual(new Set([0, 1, 2]));
    const root = model.nodes.get(model.rootId);
    expect(root?.tokens).toBeGreaterThan(0);
    // Every child run hangs under the rlm_query sub-call that started it.
    for (const run of [...model.nodes.values()].filter((n) => n.kind === "run" && n.depth > 0)) {
      expect(model.nodes.get(run.parentId as string)?.kind).toBe("subcall");
    }
  });

  it("shows rows under expanded nodes only, and search keeps matches with their ancestors", async () => {
    const model = buildModel(await makeTrajectory(10));
    expect(visibleRows(model, new Set()).map((r) => r.id)).toEqual([model.rootId]);
    const all = new Set(model.nodes.keys());
    expect(visibleRows(model, all)).toHaveLength(model.nodes.size);
    const found = searchNodes(model, "answer to chunk 7");
    const rows = visibleRows(model, new Set(), found);
    expect(rows.at(-1)?.subcall?.prompt).toBe("chunk 7");
    expect(rows[0]?.id).toBe(model.rootId);
  });
});

describe("assignLanes", () => {
  it("puts overlapping intervals side by side and reuses free lanes", () => {
    const { lanes, count } = assignLanes([
      { start: 0, end: 10 },
      { start: 2, end: 5 },
      { start: 6, end: 9 },
      { start: 11, end: 12 },
    ]);
    expect(lanes).toEqual([0, 1, 1, 0]);
    expect(count).toBe(2);
  });
});
