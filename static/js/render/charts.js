// The loss chart (training and test loss against the step), drawn with Plotly — the global
// `Plotly` from /vendor/plotly.min.js, served by the app from the installed package.
//
// Cheap updates: the traces point at the store's own history arrays (no copies; store.js keeps
// at most HISTORY_LIMIT points over the whole run by decimating), and each update is one
// Plotly.react with a new `datarevision`, which redraws the data without re-laying-out the rest
// (measured here: about half the cost of extendTraces). The legend is HTML, outside the SVG.
// While training it is redrawn once a second, and at once when training stops.

import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { NEGATIVE_CSS, POSITIVE_CSS } from "../palette.js";
import { DIRTY, isLargeNetwork, isReplaying, lineScale, markDirty, pushError, store, whileRunning } from "../store.js";
import { watchSize } from "./canvas.js";
import { plotLocale } from "./plot_axes.js";

// While training the chart is redrawn once a second, every two seconds for a large network:
// each redraw is one long task of Plotly layout and paint (50–100 ms on this 2-core machine),
// and a loss curve read at 1 Hz still moves. Measured with bench/browser_fps.py: at 2 redraws a
// second the 6 × 16 view lost 5 fps; at one every 2 s it gains about 2 fps over once a second.
const RUNNING_INTERVAL_MS = 1000;
const RUNNING_INTERVAL_LARGE_MS = 2000;
const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };

const element = document.getElementById("loss-chart");
const logToggle = document.getElementById("chart-log");

let created = false;
let layout = null; // rebuilt when its words, the divergence mark or the scale change
let layoutKey = "";
let revision = 0;

function traces() {
  const history = store.history;
  const hover = "%{y:.4f}<extra>%{fullData.name}</extra>"; // d3-format, with the layout's separators
  return [
    { x: history.steps, y: history.train, name: t("chart.train"), type: "scatter", mode: "lines",
      line: { color: POSITIVE_CSS, width: 2 * lineScale() }, hovertemplate: hover },
    { x: history.steps, y: history.test, name: t("chart.test"), type: "scatter", mode: "lines",
      line: { color: NEGATIVE_CSS, width: 2 * lineScale(), dash: "dash" }, hovertemplate: hover },
  ];
}

/** The step the replay scrubber stands at, while it is not at the saved step (null otherwise). */
function replayStepShown() {
  return isReplaying() ? store.replay.steps[store.replay.index] : null;
}

function chartLayout() {
  const diverged = store.diverged;
  const replayStep = replayStepShown();
  const fontSize = parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.8;
  return {
    ...plotLocale(),
    margin: { l: 56, r: 12, t: 8, b: 40 }, // fixed: automargin would measure text on every update
    font: { family: "system-ui, sans-serif", size: fontSize, color: store.projector ? "#000" : "#222" },
    // steps grouped from 1000 as the counters write them ("1.000" in Indonesian, not "1000")
    xaxis: { title: { text: t("chart.step") }, zeroline: false, rangemode: "nonnegative", separatethousands: true },
    yaxis: { title: { text: t("chart.loss") }, type: logToggle.checked ? "log" : "linear", rangemode: "tozero" },
    showlegend: false,
    hovermode: "x",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    shapes: [
      ...(diverged
        ? [{ type: "line", x0: diverged.step, x1: diverged.step, yref: "paper", y0: 0, y1: 1, line: { color: "#b00020", width: 2, dash: "dot" } }]
        : []),
      ...(replayStep === null
        ? []
        : [{ type: "line", x0: replayStep, x1: replayStep, yref: "paper", y0: 0, y1: 1, line: { color: "#222", width: 2 } }]),
    ],
    annotations: diverged
      ? [{ x: diverged.step, yref: "paper", y: 1, text: t("chart.diverged"), showarrow: false, xanchor: "right", font: { color: "#b00020" } }]
      : [],
    uirevision: "keep", // a zoom survives updates
    datarevision: 0,
  };
}

function draw() {
  const key = `${store.lang}:${store.diverged?.step ?? ""}:${logToggle.checked}:${replayStepShown() ?? ""}:${store.projector}`;
  if (key !== layoutKey) {
    layout = chartLayout();
    layoutKey = key;
  }
  layout.datarevision = ++revision; // the arrays changed in place: tell Plotly to look again
  window.Plotly.react(element, traces(), layout, CONFIG);
  created = true;
}

/** Runs plotly.min.js (preloaded by the page) after the first drawing, so the network shows first. */
function loadPlotly() {
  if (window.Plotly || document.getElementById("plotly-script")) return;
  const script = document.createElement("script");
  script.id = "plotly-script";
  script.src = "/vendor/plotly.min.js";
  script.addEventListener("load", () => markDirty(DIRTY.history | DIRTY.surface)); // the charts that use it
  script.addEventListener("error", () => pushError({ key: "error.plotly" }));
  document.head.append(script);
}

export function initCharts() {
  watchSize(element, () => {
    if (created) window.Plotly.Plots.resize(element);
  });
  logToggle.addEventListener("change", () => markDirty(DIRTY.history));
  registerRenderer({
    name: "loss-chart",
    mask: DIRTY.history | DIRTY.lang | DIRTY.notices | DIRTY.runs,
    interval: whileRunning(() => (isLargeNetwork() ? RUNNING_INTERVAL_LARGE_MS : RUNNING_INTERVAL_MS)),
    urgent: DIRTY.lang,
    render() {
      if (!window.Plotly) {
        if (store.network) setTimeout(loadPlotly, 50); // after this frame is painted
        return;
      }
      draw();
    },
  });
}
