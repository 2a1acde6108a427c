// The loss-surface panel (`loss-surface-view`): a slice of the loss through parameter space
// around the current weights, as contours (or a 3-D surface), with the recorded trajectory and
// the current point moving on it while the network trains. Drawn with Plotly (the global from
// /vendor/plotly.min.js, which the loss chart loads).
//
// The grid is redrawn only when a new surface arrives (or the language, the 3-D toggle or the
// size changes). The moving point is cheap: on the contours it is an HTML marker over the plot
// whose position is plain arithmetic (the axes' ranges and the margins are fixed), moved by a
// CSS transform every frame; on the 3-D surface it is one restyle of a one-point trace, a few
// times a second. The panel's controls change the store and ask surface.js for a new slice.
//
// The walk since the slice was made extends live as an SVG polyline over the contours (the same
// arithmetic as the marker: no Plotly redraw per frame). When the slice no longer holds the
// current weights (surface.js compares the real loss with the slice's under the dot) a notice
// says so in plain words, with the two losses, and offers to re-centre.

import { setInputRange } from "../dom.js";
import { groupedInteger, percent, plainNumber, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { analysis, inRange } from "../options.js";
import { DIRTY, markDirty, pickSurfaceEdge, setSurfacePicking, setSurfaceSettings, store, whileRunning } from "../store.js";
import { isFallback, requestSurface, sliceDrift, walkSinceSlice } from "../surface.js";
import { watchSize } from "./canvas.js";
import { plotLocale } from "./plot_axes.js";
import { columnName, neuronName } from "./network_names.js";

const MARGIN = { l: 56, r: 80, t: 10, b: 46, autoexpand: false }; // fixed: the marker's arithmetic relies on it
const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };
const POINT_3D_INTERVAL_MS = 250; // the 3-D point is a restyle: a few times a second is enough
const LOG_FLOOR = 1e-12;

const panel = document.getElementById("loss-surface-view");
const plot = document.getElementById("surface-plot");
const marker = document.getElementById("surface-marker");
const status = document.getElementById("surface-status");
const axes = document.getElementById("surface-axes");
const variance = document.getElementById("surface-variance");
const directions = document.getElementById("surface-directions");
const weightMode = document.getElementById("surface-weight-mode");
const weightsField = document.getElementById("surface-weights-field");
const picksRow = document.getElementById("surface-picks");
const pickedText = document.getElementById("surface-picked");
const pickToggle = document.getElementById("surface-pick-toggle");
const useSelected = document.getElementById("surface-use-selected");
const seedField = document.getElementById("surface-seed-field");
const seed = document.getElementById("surface-seed");
const span = document.getElementById("surface-span");
const resolution = document.getElementById("surface-resolution");
const view3d = document.getElementById("surface-3d");
const recompute = document.getElementById("surface-recompute");
const fit = document.getElementById("surface-fit");

const SVG = "http://www.w3.org/2000/svg";
// the walk since the slice was made, over the plot area (built here: the template stays as it is)
const walkLayer = document.createElementNS(SVG, "svg");
walkLayer.classList.add("surface-walk");
walkLayer.setAttribute("aria-hidden", "true");
walkLayer.dataset.testid = "surface-walk";
const walkLine = document.createElementNS(SVG, "polyline");
walkLayer.append(walkLine);
marker.before(walkLayer);
// the notice of a slice the network has left, and its re-centre button
const driftNotice = document.createElement("div");
driftNotice.className = "surface-drift";
driftNotice.dataset.testid = "surface-drift";
driftNotice.setAttribute("role", "status");
driftNotice.hidden = true;
const driftText = document.createElement("p");
const driftButton = document.createElement("button");
driftButton.type = "button";
driftButton.className = "chip";
driftButton.dataset.testid = "surface-recentre";
driftButton.addEventListener("click", () => requestSurface());
driftNotice.append(driftText, driftButton);
panel.querySelector(".surface-intro").after(driftNotice);

let drawnKey = ""; // what the plot shows: surface id, 3-D, language, size
let drawn3d = false;
let drawnZ = null; // the log₁₀ grid drawn, for the 3-D point's height
let plotWidth = 0; // the plot's size, kept from the resize observer: no layout read per frame
let plotHeight = 0;

// --- controls ---------------------------------------------------------------------------------

function edgeName(edge) {
  const sizes = store.network?.layer_sizes ?? [];
  const from = `${columnName(edge.layer, sizes.length)} ${neuronName(edge.layer, edge.i)}`;
  const to = `${columnName(edge.layer + 1, sizes.length)} ${neuronName(edge.layer + 1, edge.j)}`;
  return t("surface.edge", { from, to });
}

function changed(changes) {
  setSurfaceSettings(changes);
  requestSurface();
}

function wireControls() {
  directions.addEventListener("change", () => changed({ directions: directions.value }));
  weightMode.addEventListener("change", () => {
    setSurfacePicking(weightMode.value === "picked");
    changed({ weightMode: weightMode.value });
  });
  seed.addEventListener("change", () => {
    const value = Math.max(0, Math.floor(Number(seed.value)));
    if (Number.isFinite(value)) changed({ seed: value });
  });
  span.addEventListener("change", () => {
    const value = Number(span.value);
    if (inRange(analysis("surface").span, value)) changed({ span: value });
    else span.value = String(store.surface.settings.span);
  });
  resolution.addEventListener("change", () => changed({ resolution: Number(resolution.value) }));
  view3d.addEventListener("change", () => setSurfaceSettings({ view3d: view3d.checked }));
  recompute.addEventListener("click", () => requestSurface());
  fit.addEventListener("click", () => {
    const span = pathSpan(store.surface.result);
    if (span) changed({ span });
  });
  pickToggle.addEventListener("click", () => setSurfacePicking(!store.surface.picking));
  useSelected.addEventListener("click", () => {
    if (store.selection?.kind !== "edge") return;
    pickSurfaceEdge(store.selection);
    if (store.surface.picked.length === 2) requestSurface();
  });
  // an edge clicked in the network view while picking: the store took it (select), ask when two
  document.getElementById("network-view").addEventListener("click", () => {
    const surface = store.surface;
    if (surface.picking && surface.settings.weightMode === "picked" && surface.picked.length === 2) requestSurface();
  });
}

/** A span that shows the whole trajectory (10 % to spare, two significant digits), or null
 * when it already fits. */
function pathSpan(result) {
  if (!result) return null;
  let extent = 0;
  for (const [alpha, beta] of result.trajectory) extent = Math.max(extent, Math.abs(alpha), Math.abs(beta));
  if (!(extent > result.span) || !Number.isFinite(extent)) return null;
  return Math.min(analysis("surface").span.max, Number((extent * 1.1).toPrecision(2)));
}

let offered = null; // the options the span's bounds and the resolutions were filled from

/** The span's bounds and the resolutions offered, from what the server accepts. */
function offerOptions() {
  if (offered === store.options) return;
  offered = store.options;
  const { span: spanRange, resolution: resolutionRange } = analysis("surface");
  setInputRange(span, spanRange);
  resolution.replaceChildren(
    ...(resolutionRange?.presets ?? []).map((points) => {
      const option = document.createElement("option");
      option.value = String(points);
      option.textContent = `${points} × ${points}`;
      return option;
    }),
  );
}

function syncControls() {
  offerOptions();
  const { settings, picked, picking, result, status: state } = store.surface;
  directions.value = settings.directions;
  weightMode.value = settings.weightMode;
  // a field being typed in keeps what is typed until it is committed (change)
  if (document.activeElement !== seed) seed.value = String(settings.seed);
  if (document.activeElement !== span) span.value = String(settings.span);
  resolution.value = String(settings.resolution);
  view3d.checked = settings.view3d;
  weightsField.hidden = settings.directions !== "weights";
  picksRow.hidden = settings.weightMode !== "picked";
  seedField.hidden = settings.directions !== "random";
  pickToggle.setAttribute("aria-pressed", String(picking));
  pickToggle.textContent = t(picking ? "surface.picking_on" : "surface.picking_off");
  useSelected.disabled = store.selection?.kind !== "edge";
  pickedText.textContent = picked.length
    ? picked.map((edge, k) => `${k ? "β" : "α"}: ${edgeName(edge)}`).join(" · ")
    : t("surface.pick_hint");
  recompute.disabled = state === "computing" || !store.sessionId;
  status.dataset.status = state;
  status.textContent =
    state === "computing" ? t("surface.computing")
      : state === "error" ? t("surface.failed", { message: store.surface.error ?? "" })
        : state === "done" && result ? t("surface.done", { seconds: shortNumber(result.seconds, 2), step: groupedInteger(result.step) })
          : "";
  if (state === "done" && isFallback()) status.textContent += ` · ${t("surface.pca_fallback")}`;
  const drifted = state === "done" && result ? sliceDrift() : null;
  driftNotice.hidden = !drifted;
  if (drifted) {
    driftText.textContent = drifted.slice === null
      ? t("surface.drift_off", { real: plainNumber(drifted.real), step: groupedInteger(drifted.step) })
      : t("surface.drift", { real: plainNumber(drifted.real), slice: plainNumber(drifted.slice), step: groupedInteger(drifted.step) });
    driftButton.textContent = t("surface.recompute");
  }
  const wider = pathSpan(result);
  fit.hidden = wider === null;
  if (wider !== null) fit.textContent = t("surface.fit", { span: shortNumber(wider, 2) });
  const shares = result?.explained_variance;
  variance.hidden = !shares;
  if (shares) variance.textContent = t("surface.variance", { first: percent(shares[0]), second: percent(shares[1]) });
}

// --- the plot -----------------------------------------------------------------------------------

function axisTitles(result) {
  if (result.kind === "weights" && result.weights) {
    return result.weights.map(([layer, i, j], k) =>
      t("surface.axis_weight", { axis: k ? "β" : "α", edge: edgeName({ layer, i, j }) }));
  }
  if (result.kind === "pca") {
    return [0, 1].map((k) => t("surface.axis_pca", { n: k + 1, share: percent(result.explained_variance[k]) }));
  }
  return [t("surface.axis_random", { n: 1 }), t("surface.axis_random", { n: 2 })];
}

/** log₁₀ of each loss, z[row = β index][column = α index] as Plotly wants it. */
function logGrid(result) {
  const n = result.x.length;
  const z = [];
  for (let j = 0; j < result.y.length; j++) {
    const row = new Array(n);
    for (let i = 0; i < n; i++) {
      const value = result.loss[i][j];
      row[i] = value === null ? null : Math.log10(Math.max(value, LOG_FLOOR));
    }
    z.push(row);
  }
  return z;
}

/** log₁₀ loss at (α, β) on the grid, bilinear: the drawn surface's height there. */
function heightAt(result, z, alpha, beta) {
  const { x, y } = result;
  const step = x[1] - x[0];
  const fi = Math.min(Math.max((alpha - x[0]) / step, 0), x.length - 1.000001);
  const fj = Math.min(Math.max((beta - y[0]) / step, 0), y.length - 1.000001);
  const i = Math.floor(fi);
  const j = Math.floor(fj);
  const u = fi - i;
  const v = fj - j;
  const corner = (jj, ii) => z[jj][ii] ?? NaN;
  return (1 - u) * (1 - v) * corner(j, i) + u * (1 - v) * corner(j, i + 1) + (1 - u) * v * corner(j + 1, i)
    + u * v * corner(j + 1, i + 1);
}

function draw(result) {
  const z = logGrid(result);
  const [xTitle, yTitle] = axisTitles(result);
  const fontSize = parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.75;
  const colorbar = { title: { text: t("surface.colour") }, thickness: 12, x: 1.02, len: 0.95 };
  const path = result.trajectory;
  const range = [-result.span, result.span];
  const common = { ...plotLocale(), margin: MARGIN, font: { family: "system-ui, sans-serif", size: fontSize, color: "#222" },
    paper_bgcolor: "rgba(0,0,0,0)", showlegend: false };
  let traces;
  let layout;
  if (store.surface.settings.view3d) {
    const heights = path.map(([a, b]) => heightAt(result, z, a, b));
    const point = store.surface.point ?? [0, 0];
    traces = [
      { type: "surface", x: result.x, y: result.y, z, colorscale: "Viridis", colorbar, hoverinfo: "skip" },
      { type: "scatter3d", mode: "lines", x: path.map((p) => p[0]), y: path.map((p) => p[1]), z: heights,
        line: { color: "#fff", width: 4 }, hoverinfo: "skip" },
      { type: "scatter3d", mode: "markers", x: [point[0]], y: [point[1]], z: [heightAt(result, z, point[0], point[1])],
        marker: { color: "#e8463a", size: 5 }, hoverinfo: "skip" },
    ];
    layout = { ...common, margin: { l: 0, r: 0, t: 0, b: 0 },
      scene: { xaxis: { title: { text: xTitle }, range }, yaxis: { title: { text: yTitle }, range },
        zaxis: { title: { text: t("surface.colour") } } } };
  } else {
    traces = [
      // filled contours, 12 levels: measured here (bench/browser_fps.py --surface, and Plotly.react
      // timed alone on a 41 × 41 slice) the cheapest contour map to redraw, ~30 ms, where colours
      // as a smoothed image under the lines took ~100 ms
      { type: "contour", x: result.x, y: result.y, z, colorscale: "Viridis", colorbar, ncontours: 12,
        line: { color: "rgba(0,0,0,0.3)", width: 1 },
        hovertemplate: `α %{x:.3f}, β %{y:.3f}<br>${t("surface.colour")} %{z:.3f}<extra></extra>` },
      { type: "scatter", mode: "lines+markers", x: path.map((p) => p[0]), y: path.map((p) => p[1]),
        line: { color: "#ffffff", width: 2 }, marker: { color: "#ffffff", size: 3 }, hoverinfo: "skip" },
    ];
    layout = { ...common, plot_bgcolor: "#fff",
      xaxis: { title: { text: xTitle }, range, zeroline: false, fixedrange: true },
      yaxis: { title: { text: yTitle }, range, zeroline: false, fixedrange: true } };
  }
  window.Plotly.react(plot, traces, layout, CONFIG);
  drawnZ = z;
  drawn3d = store.surface.settings.view3d;
  plot.dataset.surfaceId = String(result.surface_id);
  plot.dataset.view = drawn3d ? "3d" : "contour";
  axes.textContent = t(`surface.explain_${result.kind}`);
}

/** The walk since the slice was made, over the plot area (clipped to it), in pixels. */
function drawWalk(result, width, height) {
  const walk = walkSinceSlice();
  walkLayer.style.transform = `translate(${MARGIN.l}px, ${MARGIN.t}px)`;
  walkLayer.setAttribute("width", String(Math.max(0, width)));
  walkLayer.setAttribute("height", String(Math.max(0, height)));
  const scale = 1 / (2 * result.span);
  let points = "";
  for (const [alpha, beta] of walk) {
    points += `${((alpha + result.span) * scale * width).toFixed(1)},${((1 - (beta + result.span) * scale) * height).toFixed(1)} `;
  }
  walkLine.setAttribute("points", points);
  walkLayer.dataset.points = String(walk.length);
  walkLayer.style.display = walk.length < 2 ? "none" : "";
}

/** The current point: an HTML marker over the contours, a restyled trace on the 3-D view. */
function placePoint() {
  const { result, point } = store.surface;
  if (!result || !point || !window.Plotly) {
    marker.hidden = true;
    walkLayer.style.display = "none";
    return;
  }
  marker.dataset.alpha = String(point[0]);
  marker.dataset.beta = String(point[1]);
  if (drawn3d) {
    marker.hidden = true;
    walkLayer.style.display = "none";
    const height = heightAt(result, drawnZ, point[0], point[1]);
    // the path recorded up to the slice, then the walk since, and the point: one restyle
    const path = [...result.trajectory, ...walkSinceSlice().slice(1)];
    window.Plotly.restyle(plot, {
      x: [path.map((p) => p[0]), [point[0]]],
      y: [path.map((p) => p[1]), [point[1]]],
      z: [path.map(([a, b]) => heightAt(result, drawnZ, a, b)), [height]],
    }, [1, 2]);
    return;
  }
  const width = plotWidth - MARGIN.l - MARGIN.r;
  const height = plotHeight - MARGIN.t - MARGIN.b;
  drawWalk(result, width, height);
  const u = (point[0] + result.span) / (2 * result.span);
  const v = (point[1] + result.span) / (2 * result.span);
  const inside = u >= 0 && u <= 1 && v >= 0 && v <= 1;
  marker.hidden = !inside;
  if (inside) marker.style.transform = `translate(${MARGIN.l + u * width}px, ${MARGIN.t + (1 - v) * height}px)`;
}

export function initSurface() {
  wireControls();
  let size = "";
  watchSize(plot, () => {
    plotWidth = plot.clientWidth;
    plotHeight = plot.clientHeight;
    size = `${plotWidth}×${plotHeight}`; // part of the drawn key: redraw at the new size
    markDirty(DIRTY.surface);
  });
  registerRenderer({
    name: "loss-surface",
    mask: DIRTY.surface | DIRTY.lang | DIRTY.selection | DIRTY.network,
    urgent: DIRTY.lang,
    render() {
      syncControls();
      const result = store.surface.result;
      panel.dataset.state = store.surface.status;
      if (!result) {
        // a new network: its old slice lives in another parameter space, so it goes at once
        if (drawnKey && window.Plotly?.purge) window.Plotly.purge(plot);
        drawnKey = "";
        plot.dataset.surfaceId = "";
        marker.hidden = true;
        return;
      }
      if (!window.Plotly) return; // the loss chart loads it; its load marks the views dirty again
      const key = `${result.surface_id}:${store.surface.settings.view3d}:${store.lang}:${size}`;
      if (key !== drawnKey) {
        draw(result);
        drawnKey = key;
        placePoint();
      }
    },
  });
  registerRenderer({
    name: "surface-point",
    mask: DIRTY.surfacePoint | DIRTY.surface,
    interval: whileRunning(() => (drawn3d ? POINT_3D_INTERVAL_MS : 0)),
    render() {
      if (drawnKey) placePoint();
    },
  });
}
