/**
 * Pictures of a dataflow's graph: Mermaid, Graphviz DOT, or a documented JSON shape. Reads only
 * the recorded steps (`Dataflow.steps`), so it works on any flow without running it, in Deno or
 * a browser.
 *
 * @module
 */
import type { Dataflow } from "./dataflow.ts";
import type { StepRecord } from "./graph.ts";

/** What {@linkcode visualize} draws. */
export type VisualizeFormat = "mermaid" | "json" | "dot";

/** Options of {@linkcode visualize}. */
export interface VisualizeOptions {
  /** `"mermaid"` (default), `"dot"` (Graphviz) or `"json"` (a {@linkcode FlowGraph}). */
  readonly format?: VisualizeFormat;
}

/**
 * One step of a {@linkcode FlowGraph}. Steps are listed in definition order, which is a
 * topological order; scopes come before their substeps.
 */
export interface FlowGraphStep {
  /** The fully qualified step id, e.g. `"flow.count.pipe_1"`. */
  readonly id: string;
  /** The last component of the id. */
  readonly name: string;
  /**
   * `"input"`, `"output"`, `"branch"`, `"merge"`, `"scope"` (a group of substeps), `"node"` (a
   * step with its own runtime node: stateful, batch or asynchronous), `"chain"` (a weir
   * per-item step) or `"rx"` (a run of plain RxJS operators).
   */
  readonly kind: StepRecord["kind"];
  /** The operator that made the step, e.g. `"countFinal"`, `"pipe"`. */
  readonly opType: string;
  /** The enclosing scope's step id, or the flow id for top-level steps. */
  readonly parent: string;
  /** Stream ids the step reads (for a scope: the outside streams its substeps read). */
  readonly ups: readonly string[];
  /** Stream ids the step writes (for a scope: the streams its substeps hand out). */
  readonly downs: readonly string[];
}

/** One stream of a {@linkcode FlowGraph}: an edge from its producer to each consumer. */
export interface FlowGraphStream {
  /** The stream id: `<step id>.down`, or `.trues`/`.falses` for a branch. */
  readonly id: string;
  /** The last component of the id: `"down"`, `"trues"` or `"falses"`. */
  readonly port: string;
  /** The id of the step writing the stream (never a scope). */
  readonly from: string;
  /** The ids of the steps reading it, in definition order (never a scope). */
  readonly to: readonly string[];
}

/**
 * The JSON picture of a flow: `visualize(flow, { format: "json" })` parsed. The shape is
 * stable: fields may be added in a later `version`, none removed or renamed.
 */
export interface FlowGraph {
  /** The shape's version: 1. */
  readonly version: 1;
  /** The flow id. */
  readonly flowId: string;
  /** Every recorded step, in definition order. */
  readonly steps: readonly FlowGraphStep[];
  /** Every stream, in the order of the steps that write them. */
  readonly streams: readonly FlowGraphStream[];
}

/**
 * The graph of a flow as plain data: every step and every stream with its producer and
 * consumers. What `visualize(flow, { format: "json" })` prints, and what the live dashboard
 * draws.
 *
 * @param flow The flow to describe.
 * @returns A fresh {@linkcode FlowGraph}.
 *
 * @example
 * ```ts
 * import { Dataflow, flowGraph } from "@weir/weir";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("tiny");
 * flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
 * assertEquals(flowGraph(flow).streams, [
 *   { id: "tiny.inp.down", port: "down", from: "tiny.inp", to: ["tiny.out"] },
 * ]);
 * ```
 */
export function flowGraph(flow: Dataflow): FlowGraph {
  const steps = flow.steps.map((s): FlowGraphStep => ({
    id: s.id,
    name: s.name,
    kind: s.kind,
    opType: s.opType,
    parent: s.parent,
    ups: [...s.ups],
    downs: [...s.downs],
  }));
  const streams: Array<{ id: string; port: string; from: string; to: string[] }> = [];
  const byId = new Map<string, { to: string[] }>();
  for (const s of flow.steps) {
    if (s.kind === "scope") continue;
    for (const d of s.downs) {
      const stream = { id: d, port: d.slice(d.lastIndexOf(".") + 1), from: s.id, to: [] };
      streams.push(stream);
      byId.set(d, stream);
    }
  }
  for (const s of flow.steps) {
    if (s.kind === "scope") continue;
    for (const u of s.ups) byId.get(u)?.to.push(s.id);
  }
  return { version: 1, flowId: flow.flowId, steps, streams };
}

/**
 * Draws a flow's graph as Mermaid (default), Graphviz DOT or JSON, like Bytewax's
 * `bytewax.visualize`. Scopes (operators made of substeps, such as `join` or a window
 * operator) are subgraphs holding their substeps; every stream is an edge labelled with its
 * port (`down`, or `trues`/`falses` after a branch). Inputs and outputs have their own
 * shapes (Mermaid: `[/ /]` and `[\ \]`; DOT: `invhouse` and `house`), branches are diamonds,
 * merges circles, and node steps (stateful, batch, asynchronous) double-bordered boxes.
 *
 * Mermaid and DOT node ids are `s0`, `s1`… in definition order, so the text is the same
 * for the same definition; labels read `name (operator)`. The JSON text is
 * {@linkcode flowGraph}'s result, indented by two spaces.
 *
 * @param flow The flow to draw (nothing runs).
 * @param options The format.
 * @returns The text, without a trailing newline.
 * @throws {RangeError} If the format is not one of `"mermaid"`, `"json"`, `"dot"`.
 *
 * @example A branch drawn in Mermaid
 * ```ts
 * import { Dataflow, visualize } from "@weir/weir";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("split");
 * const { trues, falses } = flow.input("inp", new TestingSource([1, 2]))
 *   .branch("even", (x) => x % 2 === 0);
 * trues.output("evens", new TestingSink([]));
 * falses.output("odds", new TestingSink([]));
 * assertEquals(visualize(flow).split("\n"), [
 *   "flowchart TD",
 *   '  s0[/"inp (input)"/]',
 *   '  s1{"even (branch)"}',
 *   '  s2[\\"evens (output)"\\]',
 *   '  s3[\\"odds (output)"\\]',
 *   '  s0 -->|"down"| s1',
 *   '  s1 -->|"trues"| s2',
 *   '  s1 -->|"falses"| s3',
 * ]);
 * ```
 */
export function visualize(flow: Dataflow, options: VisualizeOptions = {}): string {
  const format = options.format ?? "mermaid";
  switch (format) {
    case "mermaid":
      return toMermaid(flow);
    case "dot":
      return toDot(flow);
    case "json":
      return JSON.stringify(flowGraph(flow), null, 2);
    default:
      throw new RangeError(
        `visualize format must be "mermaid", "json" or "dot", got ${JSON.stringify(format)}`,
      );
  }
}

/** The steps grouped for drawing: node ids, children per scope, edges. */
interface Layout {
  readonly nodeId: Map<string, string>;
  readonly children: Map<string, StepRecord[]>;
  readonly edges: Array<{ from: string; to: string; port: string }>;
}

function layout(flow: Dataflow): Layout {
  const nodeId = new Map<string, string>();
  const children = new Map<string, StepRecord[]>();
  flow.steps.forEach((s, i) => {
    nodeId.set(s.id, `s${i}`);
    let list = children.get(s.parent);
    if (list === undefined) children.set(s.parent, list = []);
    list.push(s);
  });
  const edges = flowGraph(flow).streams.flatMap((st) =>
    st.to.map((to) => ({ from: nodeId.get(st.from)!, to: nodeId.get(to)!, port: st.port }))
  );
  return { nodeId, children, edges };
}

function label(s: StepRecord): string {
  return `${s.name} (${s.opType})`;
}

function mermaidText(text: string): string {
  return `"${text.replaceAll('"', "#quot;")}"`;
}

function mermaidNode(id: string, s: StepRecord): string {
  const l = mermaidText(label(s));
  switch (s.kind) {
    case "input":
      return `${id}[/${l}/]`;
    case "output":
      return `${id}[\\${l}\\]`;
    case "branch":
      return `${id}{${l}}`;
    case "merge":
      return `${id}((${l}))`;
    case "node":
      return `${id}[[${l}]]`;
    default:
      return `${id}[${l}]`;
  }
}

function toMermaid(flow: Dataflow): string {
  const { nodeId, children, edges } = layout(flow);
  const lines = ["flowchart TD"];
  const draw = (scope: string, indent: string) => {
    for (const s of children.get(scope) ?? []) {
      const id = nodeId.get(s.id)!;
      if (s.kind === "scope") {
        if ((children.get(s.id) ?? []).length === 0) continue;
        lines.push(`${indent}subgraph ${id}[${mermaidText(label(s))}]`);
        draw(s.id, indent + "  ");
        lines.push(`${indent}end`);
      } else {
        lines.push(indent + mermaidNode(id, s));
      }
    }
  };
  draw(flow.flowId, "  ");
  for (const e of edges) lines.push(`  ${e.from} -->|${mermaidText(e.port)}| ${e.to}`);
  return lines.join("\n");
}

function dotText(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

const DOT_SHAPES: Partial<Record<StepRecord["kind"], string>> = {
  input: "invhouse",
  output: "house",
  branch: "diamond",
  merge: "circle",
  node: "box3d",
};

function toDot(flow: Dataflow): string {
  const { nodeId, children, edges } = layout(flow);
  const lines = [`digraph ${dotText(flow.flowId)} {`, "  node [shape=box];"];
  const draw = (scope: string, indent: string) => {
    for (const s of children.get(scope) ?? []) {
      const id = nodeId.get(s.id)!;
      if (s.kind === "scope") {
        if ((children.get(s.id) ?? []).length === 0) continue;
        lines.push(`${indent}subgraph cluster_${id} {`);
        lines.push(`${indent}  label=${dotText(label(s))};`);
        draw(s.id, indent + "  ");
        lines.push(`${indent}}`);
      } else {
        const shape = DOT_SHAPES[s.kind];
        lines.push(
          `${indent}${id} [label=${dotText(label(s))}${shape ? `, shape=${shape}` : ""}];`,
        );
      }
    }
  };
  draw(flow.flowId, "  ");
  for (const e of edges) lines.push(`  ${e.from} -> ${e.to} [label=${dotText(e.port)}];`);
  lines.push("}");
  return lines.join("\n");
}
