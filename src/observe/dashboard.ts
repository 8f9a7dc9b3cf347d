/**
 * The live dashboard page served at `/` by the metrics server: the flow's graph (from
 * `/graph`) with per-step rates, item counts and keys, the inputs' progress, and the
 * epoch/commit timeline, updated by server-sent events from `/events`. One self-contained
 * page: no external script, style or font, so it works offline.
 *
 * @module
 */

/** The page's HTML. */
export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>weir dashboard</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#2a3441; --text:#d8dee6; --dim:#7d8896;
          --accent:#4fb3ff; --ok:#5cc98a; --warn:#f0b45a; --bad:#ef6b6b; }
  * { box-sizing: border-box; }
  body { margin:0; font: 13px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; gap:24px; align-items:baseline; padding:12px 20px; border-bottom:1px solid var(--line); }
  header h1 { font-size:16px; margin:0; }
  header .kv { color:var(--dim); } header .kv b { color:var(--text); font-weight:600; }
  #status.running { color:var(--ok); } #status.failed, #status.aborted { color:var(--bad); }
  main { display:grid; grid-template-columns: minmax(420px, 1fr) 420px; gap:16px; padding:16px 20px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
  section h2 { font-size:12px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 10px; }
  #graph svg { display:block; margin:0 auto; max-width:100%; height:auto; }
  .node rect { fill:#1d2630; stroke:#3a4757; rx:6; }
  .node.k-input rect { stroke:var(--accent); } .node.k-output rect { stroke:var(--ok); }
  .node.k-node rect { stroke:var(--warn); } .node .name { font-weight:600; fill:var(--text); font-size:12px; }
  .node .op { fill:var(--dim); font-size:10px; } .node .stat { fill:var(--accent); font-size:11px; }
  .scope rect { fill:none; stroke:#4a5868; stroke-dasharray:4 3; rx:8; } .scope text { fill:var(--dim); font-size:10px; }
  .edge { stroke:#52606f; fill:none; stroke-width:1.3; } .edge.live { stroke:var(--accent); }
  .bar { height:8px; background:#222b35; border-radius:4px; overflow:hidden; margin:4px 0 2px; }
  .bar > div { height:100%; background:var(--accent); width:0; transition: width .3s; }
  .row { margin-bottom:10px; } .row .t { display:flex; justify-content:space-between; }
  .dim { color:var(--dim); } table { width:100%; border-collapse:collapse; }
  td { padding:2px 0; } td.n { text-align:right; font-variant-numeric: tabular-nums; }
  #timeline svg { width:100%; height:90px; } #timeline .e { fill:var(--accent); } #timeline .c { fill:var(--ok); }
  .side { display:flex; flex-direction:column; gap:16px; }
</style>
</head>
<body>
<header>
  <h1 id="flow">weir</h1>
  <span class="kv">status <b id="status">connecting</b></span>
  <span class="kv">epoch <b id="epoch">–</b></span>
  <span class="kv">elapsed <b id="elapsed">–</b></span>
  <span class="kv" id="resumed"></span>
  <span class="kv">last commit <b id="commit">–</b></span>
</header>
<main>
  <section id="graph"><h2>Graph</h2><svg id="svg"></svg></section>
  <div class="side">
    <section><h2>Inputs</h2><div id="inputs"></div></section>
    <section><h2>Outputs</h2><table id="outputs"></table></section>
    <section id="timeline"><h2>Epochs (bars: duration) and commits (dots: size)</h2><svg id="tl"></svg>
      <div class="dim" id="tl-caption"></div></section>
  </div>
</main>
<script>
const $ = (id) => document.getElementById(id);
const NS = "http://www.w3.org/2000/svg";
const el = (tag, attrs, parent) => { const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]); if (parent) parent.appendChild(e); return e; };
const fmt = (n) => n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n));
const bytes = (n) => n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : (n / 1048576).toFixed(1) + " MiB";
const dur = (ms) => ms < 1000 ? Math.round(ms) + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : Math.floor(ms / 60000) + " min " + Math.round(ms % 60000 / 1000) + " s";
const stats = new Map();
const timeline = new Map();
const addT = (t) => timeline.set(t.kind + t.epoch, t);
let graph;

function layout(g) {
  const steps = g.steps.filter((s) => s.kind !== "scope");
  const producer = new Map(g.streams.map((s) => [s.id, s.from]));
  const depth = new Map();
  for (const s of steps) {
    let d = 0;
    for (const u of s.ups) { const p = producer.get(u); if (p !== undefined) d = Math.max(d, depth.get(p) + 1); }
    depth.set(s.id, d);
  }
  const rows = [];
  for (const s of steps) (rows[depth.get(s.id)] ??= []).push(s);
  const W = 190, H = 52, GX = 24, GY = 34, PAD = 26;
  const width = Math.max(...rows.map((r) => r.length)) * (W + GX) + 2 * PAD;
  const pos = new Map();
  rows.forEach((row, y) => {
    const offset = (width - row.length * (W + GX) + GX) / 2;
    row.forEach((s, x) => pos.set(s.id, { x: offset + x * (W + GX), y: PAD + y * (H + GY), w: W, h: H }));
  });
  return { steps, pos, width, height: PAD * 2 + rows.length * (H + GY) - GY, W, H };
}

function drawGraph(g) {
  const svg = $("svg");
  const { steps, pos, width, height } = layout(g);
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("width", width);
  for (const sc of g.steps.filter((s) => s.kind === "scope").reverse()) {
    const inner = [...pos].filter(([id]) => id.startsWith(sc.id + ".")).map(([, p]) => p);
    if (inner.length === 0) continue;
    const x0 = Math.min(...inner.map((p) => p.x)) - 10, y0 = Math.min(...inner.map((p) => p.y)) - 18;
    const x1 = Math.max(...inner.map((p) => p.x + p.w)) + 10, y1 = Math.max(...inner.map((p) => p.y + p.h)) + 8;
    const gs = el("g", { class: "scope" }, svg);
    el("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, gs);
    el("text", { x: x0 + 8, y: y0 + 12 }, gs).textContent = sc.name + " (" + sc.opType + ")";
  }
  for (const st of g.streams) {
    const a = pos.get(st.from);
    for (const to of st.to) {
      const b = pos.get(to);
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
      const my = (y1 + y2) / 2;
      el("path", { class: "edge", "data-stream": st.id, d: "M" + x1 + "," + y1 + " C" + x1 + "," + my + " " + x2 + "," + my + " " + x2 + "," + (y2 - 4), "marker-end": "url(#arrow)" }, svg);
    }
  }
  const defs = el("defs", {}, svg);
  const m = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#6b7a8a" }, m);
  for (const s of steps) {
    const p = pos.get(s.id);
    const gn = el("g", { class: "node k-" + s.kind, "data-step": s.id, transform: "translate(" + p.x + "," + p.y + ")" }, svg);
    el("rect", { width: p.w, height: p.h }, gn);
    el("text", { class: "name", x: 10, y: 17 }, gn).textContent = s.name;
    el("text", { class: "op", x: p.w - 8, y: 17, "text-anchor": "end" }, gn).textContent = s.opType;
    const t = el("text", { class: "stat", x: 10, y: 38 }, gn);
    t.textContent = "–";
    stats.set(s.id, t);
  }
}

function update(p) {
  $("flow").textContent = "weir · " + p.flowId;
  $("status").textContent = p.status;
  $("status").className = p.status;
  $("epoch").textContent = p.epoch;
  $("elapsed").textContent = dur(p.elapsedMs);
  $("resumed").innerHTML = p.resumedFrom > 0 ? "resumed from epoch <b>" + p.resumedFrom + "</b>" : "";
  if (p.lastCommit) $("commit").textContent = "epoch " + p.lastCommit.epoch + ", " + bytes(p.lastCommit.bytes) + ", " + Math.round(p.lastCommit.latencyMs) + " ms";
  for (const s of p.steps) {
    const t = stats.get(s.stepId);
    if (!t) continue;
    const parts = [];
    if (s.itemsOut !== undefined) parts.push(fmt(s.itemsOut) + " out");
    else if (s.itemsIn !== undefined) parts.push(fmt(s.itemsIn) + " in");
    if (s.rate !== undefined) parts.push(fmt(s.rate) + "/s");
    if (s.keys !== undefined) parts.push(fmt(s.keys) + " keys");
    t.textContent = parts.length ? parts.join(" · ") : "(fused)";
  }
  $("inputs").innerHTML = p.inputs.map((i) => {
    const pct = i.percent !== undefined ? i.percent : undefined;
    const eta = i.etaMs !== undefined ? " · ETA " + dur(i.etaMs) : "";
    return '<div class="row" data-input="' + i.stepId + '"><div class="t"><span>' + i.stepId +
      '</span><span class="n">' + fmt(i.items) + " items · " + fmt(i.rate) + "/s</span></div>" +
      (pct !== undefined ? '<div class="bar"><div style="width:' + pct.toFixed(1) + '%"></div></div><div class="dim">' +
        pct.toFixed(1) + "% · " + bytes(i.position) + " of " + bytes(i.end) + eta + "</div>" : "") + "</div>";
  }).join("");
  $("outputs").innerHTML = p.outputs.map((o) => '<tr data-output="' + o.stepId + '"><td>' + o.stepId +
    '</td><td class="n">' + fmt(o.items) + '</td><td class="n">' + fmt(o.rate) + "/s</td></tr>").join("");
  if (p.event === "epoch" && p.lastEpoch) addT({ kind: "e", epoch: p.lastEpoch.epoch, v: p.lastEpoch.durationMs });
  if (p.event === "commit" && p.lastCommit) addT({ kind: "c", epoch: p.lastCommit.epoch, v: p.lastCommit.bytes });
  drawTimeline();
}

function drawTimeline() {
  const svg = $("tl");
  svg.innerHTML = "";
  const all = [...timeline.values()].sort((a, b) => a.epoch - b.epoch);
  const es = all.filter((t) => t.kind === "e").slice(-60);
  const cs = all.filter((t) => t.kind === "c").slice(-60);
  const maxE = Math.max(1, ...es.map((t) => t.v)), maxC = Math.max(1, ...cs.map((t) => t.v));
  const w = svg.clientWidth || 380, h = 90, bw = w / 60;
  const first = es.length ? es[0].epoch : 0;
  es.forEach((t, i) => { const bh = Math.max(2, (t.v / maxE) * (h - 14));
    el("rect", { class: "e", x: i * bw + 1, y: h - bh, width: Math.max(1, bw - 2), height: bh }, svg); });
  cs.forEach((t) => { const i = t.epoch - first; if (i < 0) return;
    el("circle", { class: "c", cx: i * bw + bw / 2, cy: 4 + (1 - t.v / maxC) * 20, r: 3 }, svg); });
  const last = es[es.length - 1];
  $("tl-caption").textContent = last ? "last epoch " + last.epoch + ": " + dur(last.v) + (cs.length ? " · last commit " + bytes(cs[cs.length - 1].v) : "") : "no epoch ended yet";
}

fetch("/graph").then((r) => r.json()).then((g) => {
  graph = g;
  drawGraph(g);
  fetch("/history").then((r) => r.json()).then((h) => { h.forEach(addT); drawTimeline(); });
  const es = new EventSource("/events");
  es.onmessage = (m) => update(JSON.parse(m.data));
  es.onerror = () => { if ($("status").textContent === "running") $("status").textContent = "disconnected"; };
});
</script>
</body>
</html>
`;
