// archon web UI: plain JavaScript and SVG, no external files. Hash routes:
//   #/              experiments
//   #/exp/ID        one experiment (classic: trials; one-shot: the supernet)
"use strict";

const app = document.getElementById("app");
const NS = "http://www.w3.org/2000/svg";
let timer = null;
let state = { sortKey: "id", sortUp: true, filter: "", epoch: null, trial: null };

function esc(s) {
  return String(s ?? "").replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}
function fmt(v, digits = 4) {
  return typeof v === "number" && isFinite(v) ? v.toFixed(digits) : "-";
}
function duration(s) {
  if (typeof s !== "number") return "-";
  if (s < 120) return s.toFixed(0) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
async function get(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}
function svg(tag, attrs = {}, parent = null) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// A line chart of named series [[x, y], ...] into the <svg> element `el`.
function lineChart(el, series, xLabel) {
  el.innerHTML = "";
  const W = 520, H = 260, P = 40;
  el.setAttribute("width", W); el.setAttribute("height", H);
  const pts = series.flatMap(s => s.points);
  if (!pts.length) { svg("text", { x: P, y: H / 2 }, el).textContent = "no data yet"; return; }
  let [x0, x1] = [Math.min(...pts.map(p => p[0])), Math.max(...pts.map(p => p[0]))];
  let [y0, y1] = [Math.min(...pts.map(p => p[1])), Math.max(...pts.map(p => p[1]))];
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const sx = x => P + (x - x0) / (x1 - x0) * (W - 2 * P);
  const sy = y => H - P - (y - y0) / (y1 - y0) * (H - 2 * P);
  svg("line", { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: "#333" }, el);
  svg("line", { x1: P, y1: P, x2: P, y2: H - P, stroke: "#333" }, el);
  svg("text", { x: W / 2, y: H - 8, "text-anchor": "middle", "font-size": 11 }, el).textContent = xLabel;
  svg("text", { x: 2, y: P, "font-size": 10 }, el).textContent = fmt(y1, 3);
  svg("text", { x: 2, y: H - P, "font-size": 10 }, el).textContent = fmt(y0, 3);
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
  series.forEach((s, k) => {
    const c = colors[k % colors.length];
    svg("polyline", { fill: "none", stroke: c, "stroke-width": s.width || 2, "stroke-opacity": s.opacity || 1,
      points: s.points.map(p => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" "), class: "series" }, el);
    if (s.name) svg("text", { x: W - P - 110, y: P + 12 * k, fill: c, "font-size": 11 }, el).textContent = s.name;
  });
}

// Every trial by its first two objectives, the Pareto front ringed and joined.
function paretoChart(el, trials, names) {
  el.innerHTML = "";
  const W = 520, H = 260, P = 44;
  el.setAttribute("width", W); el.setAttribute("height", H);
  const pts = trials.filter(t => Array.isArray(t.objectives)).map(t => [t.objectives[0], t.objectives[1], t.on_front, t.id]);
  if (!pts.length) { svg("text", { x: P, y: H / 2 }, el).textContent = "no trial has every objective yet"; return; }
  const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const sx = x => P + (x - x0) / (x1 - x0) * (W - 2 * P), sy = y => H - P - (y - y0) / (y1 - y0) * (H - 2 * P);
  svg("line", { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: "#333" }, el);
  svg("line", { x1: P, y1: P, x2: P, y2: H - P, stroke: "#333" }, el);
  svg("text", { x: W / 2, y: H - 8, "text-anchor": "middle", "font-size": 11 }, el).textContent = names[0];
  svg("text", { x: 4, y: P - 8, "font-size": 11 }, el).textContent = names[1];
  svg("text", { x: 2, y: P, "font-size": 10 }, el).textContent = fmt(y1, 3);
  svg("text", { x: 2, y: H - P, "font-size": 10 }, el).textContent = fmt(y0, 3);
  svg("text", { x: P, y: H - P + 14, "font-size": 10 }, el).textContent = fmt(x0, 3);
  svg("text", { x: W - P, y: H - P + 14, "font-size": 10, "text-anchor": "end" }, el).textContent = fmt(x1, 3);
  const front = pts.filter(p => p[2]).sort((a, b) => a[0] - b[0]);
  svg("polyline", { fill: "none", stroke: "#d62728", points: front.map(p => `${sx(p[0])},${sy(p[1])}`).join(" ") }, el);
  for (const p of pts) {
    const c = svg("circle", { cx: sx(p[0]), cy: sy(p[1]), r: p[2] ? 5 : 3, class: p[2] ? "pareto-front" : "pareto-trial",
      fill: p[2] ? "none" : "#9ab", stroke: p[2] ? "#d62728" : "none", "stroke-width": 2 }, el);
    svg("title", {}, c).textContent = `trial ${p[3]}: ${fmt(p[0])}, ${fmt(p[1])}`;
  }
}

async function listPage() {
  const list = await get("/api/experiments");
  app.innerHTML = `<h1>Experiments</h1><p class="muted">${list.length} in this runs folder</p>
    <table id="experiments"><thead><tr><th>id</th><th>kind</th><th>status</th><th>algorithm</th><th>space</th><th>best</th><th>duration</th></tr></thead><tbody>` +
    list.map(e => `<tr class="experiment" data-id="${esc(e.id)}"><td><a href="#/exp/${encodeURIComponent(e.id)}">${esc(e.id)}</a></td>
      <td>${esc(e.kind)}</td><td class="status-${esc(e.status)}">${esc(e.status)}</td><td>${esc(e.algorithm)}</td>
      <td>${esc(e.space)}</td><td class="best">${fmt(e.best)}</td><td>${duration(e.duration)}</td></tr>`).join("") +
    `</tbody></table>`;
  app.querySelectorAll("tr.experiment").forEach(tr =>
    tr.addEventListener("click", () => { location.hash = "#/exp/" + encodeURIComponent(tr.dataset.id); }));
}

function header(exp) {
  const s = exp.summary;
  return `<h1 id="experiment-id">${esc(s.id)}</h1>
    <p>${esc(s.kind)} · ${esc(s.algorithm)} · ${esc(s.space)} · <span class="status-${esc(s.status)}" id="status">${esc(s.status)}</span>
    · best <b id="best-metric">${fmt(s.best)}</b> · ${duration(s.duration)}</p>`;
}

// ---- classic experiments ----------------------------------------------------------

function choiceView(trials, maximize) {
  // Per choice: mean final metric of the succeeded trials that made each selection.
  const by = {};
  for (const t of trials) {
    if (t.status !== "SUCCEEDED" || typeof t.metric !== "number") continue;
    for (const [label, sel] of Object.entries(t.parameters || {})) {
      const v = JSON.stringify(sel._value);
      by[label] = by[label] || {};
      (by[label][v] = by[label][v] || []).push(t.metric);
    }
  }
  return Object.entries(by).map(([label, opts]) => {
    const rows = Object.entries(opts).map(([v, ms]) => [v, ms.reduce((a, b) => a + b, 0) / ms.length, ms.length]);
    rows.sort((a, b) => maximize ? b[1] - a[1] : a[1] - b[1]);
    return `<div class="choice"><b>${esc(label)}</b><table>` + rows.map(([v, m, n]) =>
      `<tr><td>${esc(v)}</td><td>${fmt(m)}</td><td class="muted">${n} trial${n > 1 ? "s" : ""}</td></tr>`).join("") + `</table></div>`;
  }).join("");
}

async function classicPage(id, exp) {
  const trials = await get(`/api/experiments/${encodeURIComponent(id)}/trials`);
  const maximize = exp.summary.direction !== "minimize";
  const statuses = [...new Set(trials.map(t => t.status))].sort();
  const rows = trials.filter(t => !state.filter || t.status === state.filter);
  const key = state.sortKey;
  rows.sort((a, b) => {
    const [x, y] = [a[key] ?? -Infinity, b[key] ?? -Infinity];
    return (x < y ? -1 : x > y ? 1 : 0) * (state.sortUp ? 1 : -1);
  });
  // Multi-fidelity tuners give trials budgets and promotions: a column when any has one.
  const fidelity = trials.some(t => t.budget !== null && t.budget !== undefined);
  const budgetHead = fidelity ? `<th data-key="budget">budget</th>` : "";
  const budgetCell = t => !fidelity ? "" : `<td>${t.budget ?? "-"}${
    typeof t.promoted_from === "number" ? ` <span class="muted">(from ${t.promoted_from})</span>` : ""}</td>`;
  // The proxy pre-filter's picks: a column with the proxy and rank.
  const prefiltered = trials.some(t => t.prefilter && typeof t.prefilter.rank === "number");
  const prefilterHead = prefiltered ? `<th>pre-filter</th>` : "";
  const prefilterCell = t => !prefiltered ? "" : `<td class="prefilter">${t.prefilter && typeof t.prefilter.rank === "number"
    ? `${esc(t.prefilter.proxy)} #${t.prefilter.rank + 1}` : "-"}</td>`;
  app.innerHTML = header(exp) + `
    <div class="panel"><h3>Best so far</h3><svg id="best-curve"></svg></div>
    ${(exp.summary.objectives || []).length >= 2 ? `<div class="panel"><h3>Pareto front</h3><svg id="pareto"></svg></div>` : ""}
    <div class="panel"><h3>Intermediate metrics</h3><svg id="intermediate"></svg></div>
    <h3>Trials <select id="status-filter"><option value="">all (${trials.length})</option>${statuses.map(s =>
      `<option ${s === state.filter ? "selected" : ""}>${esc(s)}</option>`).join("")}</select></h3>
    <table id="trials"><thead><tr><th data-key="id">trial</th><th data-key="status">status</th><th data-key="metric">metric</th>
      <th data-key="attempts">attempts</th>${budgetHead}${prefilterHead}<th>parameters</th></tr></thead><tbody>` +
    rows.map(t => `<tr class="trial" data-id="${t.id}"><td>${t.id}</td><td class="status-${esc(t.status)}">${esc(t.status)}</td>
      <td>${fmt(t.metric)}</td><td>${t.attempts}</td>${budgetCell(t)}${prefilterCell(t)}<td class="muted">${esc(Object.entries(t.parameters || {}).map(([k, v]) =>
        k + "=" + JSON.stringify(v._value)).join(" ")).slice(0, 160)}</td></tr>`).join("") + `</tbody></table>
    <div id="trial-detail"></div>
    <h3>Which choices the good trials made</h3><div id="choices">${choiceView(trials, maximize)}</div>`;
  let best = null;
  const curve = [];
  for (const t of [...trials].sort((a, b) => a.id - b.id)) {
    if (t.status === "SUCCEEDED" && typeof t.metric === "number")
      best = best === null ? t.metric : (maximize ? Math.max(best, t.metric) : Math.min(best, t.metric));
    if (best !== null) curve.push([t.id, best]);
  }
  lineChart(document.getElementById("best-curve"), [{ name: "best", points: curve }], "trial");
  const objectiveNames = (exp.summary.objectives || []).map(o => `${o.metric} (${o.direction})`);
  if (objectiveNames.length >= 2) paretoChart(document.getElementById("pareto"), trials, objectiveNames);
  lineChart(document.getElementById("intermediate"), trials.filter(t => t.intermediate.length).map(t =>
    ({ points: t.intermediate.map((v, i) => [i + 1, v]), width: 1, opacity: 0.7 })), "report");
  document.getElementById("status-filter").addEventListener("change", e => { state.filter = e.target.value; render(); });
  app.querySelectorAll("#trials th[data-key]").forEach(th => th.addEventListener("click", () => {
    state.sortUp = state.sortKey === th.dataset.key ? !state.sortUp : true;
    state.sortKey = th.dataset.key; render();
  }));
  app.querySelectorAll("tr.trial").forEach(tr => tr.addEventListener("click", () => { state.trial = +tr.dataset.id; showTrial(id); }));
  if (state.trial !== null) showTrial(id);
}

async function showTrial(id) {
  const t = await get(`/api/experiments/${encodeURIComponent(id)}/trials/${state.trial}`);
  document.getElementById("trial-detail").innerHTML = `<h3>Trial ${t.id} <span class="status-${esc(t.status)}">${esc(t.status)}</span></h3>
    <p>metric ${fmt(t.metric)}${t.reason ? " · " + esc(t.reason) : ""}</p>
    <pre>${esc(JSON.stringify(t.parameters, null, 1))}</pre>
    <p class="muted">metrics: ${t.metrics.map(m => fmt(m.value)).join(", ")}</p>
    <h4>stdout (tail)</h4><pre>${esc(t.stdout)}</pre><h4>stderr (tail)</h4><pre>${esc(t.stderr)}</pre>`;
}

// ---- one-shot experiments ---------------------------------------------------------

function candidatesOf(space, label) {
  const v = (space || {})[label];
  if (!v) return [];
  const list = Array.isArray(v._value) ? v._value : (v._value && v._value.candidates) || [];
  return list.map(String);
}

// The strongest candidate of a decision (other than "none" when another exists).
function strongest(weights, names) {
  let best = -1;
  weights.forEach((w, i) => { if (names[i] !== "none" && (best < 0 || w > weights[best])) best = i; });
  return best < 0 ? 0 : best;
}

// A cell laid out by the server (inputs left, intermediate nodes spread, output right,
// label boxes that overlap nothing): nodes, the dashed concatenation into c_{k}, and
// `edges` [{key, text, strength (0..1), chosen}] on the layout's edges with those keys.
function drawCell(g, layout, edges, labelClass) {
  const at = {};
  for (const e of layout.edges) at[e.key] = e;
  // DARTS cells: the output concatenates the intermediate nodes (NAS-Bench-201's last
  // node is the output itself).
  if (layout.output)
    for (const n of layout.nodes.slice(2))
      svg("line", { x1: n.x, y1: n.y, x2: layout.output.x, y2: layout.output.y, stroke: "#bbb", "stroke-dasharray": "2 3" }, g);
  const labels = [];
  for (const e of edges) {
    const p = at[e.key];
    if (!p) continue;
    const line = svg("line", { x1: p.x1, y1: p.y1, x2: p.x2, y2: p.y2, class: "edge", "data-label": e.key,
      stroke: `rgba(79, 70, 229, ${0.15 + 0.85 * e.strength})`, "stroke-width": 1 + 4 * e.strength,
      "stroke-dasharray": e.chosen ? "" : "4 3" }, g);
    if (e.title) svg("title", {}, line).textContent = e.title;
    labels.push([p, e]);
  }
  // Labels above every line, with a white halo so crossing lines don't hide them.
  for (const [p, e] of labels) {
    const t = svg("text", { x: p.lx, y: p.ly, "text-anchor": "middle", "dominant-baseline": "central",
      class: labelClass, "data-label": e.key, stroke: "white", "stroke-width": 3, "paint-order": "stroke" }, g);
    t.textContent = e.text;
  }
  for (const n of layout.nodes.concat(layout.output ? [layout.output] : [])) {
    svg("ellipse", { cx: n.x, cy: n.y, rx: n.rx, ry: 16, fill: "#e8f0fe", stroke: "#1f77b4" }, g);
    svg("text", { x: n.x, y: n.y, "text-anchor": "middle", "dominant-baseline": "central", "font-size": 10 }, g).textContent = n.name;
  }
}

// Each label's box as the browser rendered it, kept on the element (data-bbox) so that
// tests and users can check that no two overlap.
function recordBoxes(el) {
  for (const t of el.querySelectorAll("text[data-label]")) {
    const b = t.getBBox();
    t.setAttribute("data-bbox", [b.x, b.y, b.width, b.height].map(v => v.toFixed(1)).join(","));
  }
}

// Stacks one drawing per cell kind into `el`; `draw(g, kind, layout)` fills each.
function drawKinds(el, layouts, title, draw) {
  el.innerHTML = "";
  const kinds = Object.keys(layouts);
  let y = 0, width = 0;
  for (const kind of kinds) {
    const l = layouts[kind];
    const g = svg("g", { transform: `translate(0, ${y})`, class: "cell", "data-kind": kind }, el);
    svg("text", { x: 8, y: 18, "font-weight": "bold" }, g).textContent = title(kind);
    draw(g, kind, l);
    y += l.height; width = Math.max(width, l.width);
  }
  el.setAttribute("width", width); el.setAttribute("height", y);
  recordBoxes(el);
}

// Whether the derived architecture keeps edge `p` of cell `kind`: DARTS keeps the
// inputs its node's switch chose; a cell without switches (NAS-Bench-201) keeps every
// edge the architecture names.
function kept(arch, kind, p) {
  if (!arch) return false;
  const sw = arch[`${kind}_n${p.to}_switch`];
  return sw ? (sw._idx || []).includes(p.from) : !!arch[p.key];
}

function drawCells(el, layouts, space, weights, arch) {
  // DARTS-style cells (labels {kind}_n{j}_p{i}): every candidate edge, coloured and
  // labelled by its strongest operation's weight; solid where the derived cell keeps it.
  if (!layouts || !Object.keys(layouts).length) return false;
  drawKinds(el, layouts, kind => kind === "cell" ? "cell" : kind + " cell", (g, kind, l) => drawCell(g, l, l.edges.map(p => {
    const w = weights[p.key] || [];
    const cand = candidatesOf(space, p.key);
    const b = strongest(w, cand);
    return { key: p.key, text: `${cand[b] || "?"} ${fmt(w[b] ?? 0, 2)}`, strength: w[b] ?? 0,
      chosen: kept(arch, kind, p),
      title: `${p.key}: ` + cand.map((c, i) => `${c} ${fmt(w[i], 3)}`).join(", ") };
  }), "edge-weight"));
  return true;
}

function drawChain(el, space, weights) {
  // Any other space: one row per decision, a bar per candidate.
  el.innerHTML = "";
  const labels = Object.keys(weights);
  const W = 720, rowH = 22;
  el.setAttribute("width", W); el.setAttribute("height", 20 + rowH * labels.length);
  labels.forEach((label, r) => {
    const y = 10 + r * rowH;
    svg("text", { x: 4, y: y + 14, "font-size": 11 }, el).textContent = label;
    const w = weights[label], cand = candidatesOf(space, label);
    const bw = (W - 200) / Math.max(1, w.length);
    w.forEach((p, i) => {
      const rect = svg("rect", { x: 190 + i * bw, y, width: Math.max(1, (bw - 4) * p), height: rowH - 6, class: "bar edge", "data-label": label }, el);
      svg("title", {}, rect).textContent = `${label} ${cand[i] ?? i}: ${fmt(p, 3)}`;
      const t = svg("text", { x: 190 + i * bw + 2, y: y + 12, "font-size": 9, class: "edge-weight", "data-label": label }, el);
      t.textContent = `${cand[i] ?? i} ${fmt(p, 2)}`;
    });
  });
}

function drawGenotype(el, arch, layouts) {
  el.innerHTML = "";
  if (!arch) { el.setAttribute("height", 20); return; }
  const kinds = Object.keys(layouts || {}).filter(kind => layouts[kind].edges.some(p => kept(arch, kind, p)));
  if (!kinds.length) {
    el.setAttribute("width", 720); el.setAttribute("height", 16 * Object.keys(arch).length + 10);
    Object.entries(arch).forEach(([k, v], i) => {
      svg("text", { x: 4, y: 14 + 16 * i, "font-size": 11, class: "genotype-op" }, el).textContent = `${k}: ${JSON.stringify(v._value)}`;
    });
    return;
  }
  // The derived cell: the chosen edges only, where the supernet drawing has them.
  const chosen = {};
  for (const kind of kinds) chosen[kind] = layouts[kind];
  drawKinds(el, chosen, kind => kind === "cell" ? "derived cell" : `derived ${kind} cell`, (g, kind, l) => drawCell(g, l, l.edges
    .filter(p => kept(arch, kind, p) && arch[p.key])
    .map(p => ({ key: p.key, text: String(arch[p.key]._value), strength: 0.6, chosen: true })), "genotype-op"));
}

function oneShotPage(id, exp) {
  const epochs = exp.epochs;
  const space = exp.meta.search_space || {};
  const last = epochs.length - 1;
  const e = state.epoch === null || state.epoch > last ? last : state.epoch;
  app.innerHTML = header(exp) + `
    <h3>Supernet: op importance at epoch <span id="epoch-label">${e + 1}</span> of ${epochs.length}</h3>
    <input type="range" id="epoch-slider" min="0" max="${Math.max(0, last)}" value="${Math.max(0, e)}" step="1">
    <div><svg id="supernet"></svg></div>
    <div class="panel"><h3>Loss and accuracy</h3><svg id="curves"></svg></div>
    <div class="panel"><h3>Exported architecture</h3><svg id="genotype"></svg>
      <p class="muted" id="genotype-text">${esc(exp.meta.genotype || "")}</p></div>
    ${exp.populations.length ? `<h3>Evolution</h3><svg id="populations"></svg>` : ""}`;
  const draw = k => {
    document.getElementById("epoch-label").textContent = String(k + 1);
    const w = (epochs[k] || {}).arch_weights || {};
    const arch = (epochs[k] || {}).architecture;
    const el = document.getElementById("supernet");
    if (!drawCells(el, exp.cell_layouts, space, w, arch)) drawChain(el, space, w);
  };
  if (epochs.length) draw(e);
  document.getElementById("epoch-slider").addEventListener("input", ev => { state.epoch = +ev.target.value; draw(state.epoch); });
  const series = ["loss", "accuracy", "valid_loss", "valid_accuracy"].map(key => ({ name: key,
    points: epochs.filter(x => typeof (x.metrics || {})[key] === "number").map(x => [x.epoch + 1, x.metrics[key]]) }))
    .filter(s => s.points.length);
  lineChart(document.getElementById("curves"), series, "epoch");
  drawGenotype(document.getElementById("genotype"), exp.meta.architecture || (epochs[last] || {}).architecture, exp.cell_layouts);
  if (exp.populations.length)
    lineChart(document.getElementById("populations"), [{ name: "best score", points: exp.populations.map(p =>
      [p.generation + 1, Math.max(...p.population.map(m => m.score))]) }], "generation");
}

async function render() {
  const m = /^#\/exp\/(.+)$/.exec(location.hash);
  try {
    if (!m) { await listPage(); return; }
    const id = decodeURIComponent(m[1]);
    const exp = await get(`/api/experiments/${encodeURIComponent(id)}`);
    if (exp.summary.kind === "one-shot") oneShotPage(id, exp); else await classicPage(id, exp);
    document.getElementById("live").textContent = exp.summary.status === "RUNNING" ? "live: refreshing every 3 s" : "";
  } catch (err) {
    app.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

function schedule() {
  clearInterval(timer);
  // Live updates while anything runs; a static experiment is drawn once.
  timer = setInterval(async () => {
    const live = document.getElementById("live").textContent !== "";
    if (live) render();
  }, 3000);
}

window.addEventListener("hashchange", () => { state = { sortKey: "id", sortUp: true, filter: "", epoch: null, trial: null }; render(); });
render();
schedule();
