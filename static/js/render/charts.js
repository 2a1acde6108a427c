// The loss chart (training and test loss against the step), drawn with Plotly — the global
// `Plotly` from /vendor/plotly.min.js, served by the app from the installed package.
//
// Plotly redraws its whole SVG on every update, so it is fed at most UPDATE_HZ times a second:
// new points go in with extendTraces; when the store decimates the curve (store.js keeps at most
// HISTORY_LIMIT points over the whole run) the traces are replaced once with Plotly.react.

import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { NEGATIVE_CSS, POSITIVE_CSS } from "../palette.js";
import { DIRTY, markDirty, pushError, store } from "../store.js";
import { watchSize } from "./canvas.js";

const UPDATE_HZ = 5;

const element = document.getElementById("loss-chart");
const logToggle = document.getElementById("chart-log");

let created = false;
let sentVersion = -1;
let sentLength = 0;
let lastUpdate = -Infinity;
let pending = null;
let drawnDivergence = null;
let relabel = false; // the language changed: titles and legend need a full redraw

function traces() {
  const history = store.history;
  return [
    { x: history.steps.slice(), y: history.train.slice(), name: t("chart.train"), type: "scatter", mode: "lines",
      line: { color: POSITIVE_CSS, width: 2 }, hovertemplate: "%{y:.4f}<extra>%{fullData.name}</extra>" },
    { x: history.steps.slice(), y: history.test.slice(), name: t("chart.test"), type: "scatter", mode: "lines",
      line: { color: NEGATIVE_CSS, width: 2, dash: "dash" }, hovertemplate: "%{y:.4f}<extra>%{fullData.name}</extra>" },
  ];
}

function chartLayout() {
  const diverged = store.diverged;
  const fontSize = parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.8;
  return {
    margin: { l: 52, r: 12, t: 6, b: 38 },
    font: { family: "system-ui, sans-serif", size: fontSize, color: "#222" },
    xaxis: { title: { text: t("chart.step") }, zeroline: false, automargin: true },
    yaxis: { title: { text: t("chart.loss") }, type: logToggle.checked ? "log" : "linear", rangemode: "tozero", automargin: true },
    legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" },
    hovermode: "x unified",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    shapes: diverged
      ? [{ type: "line", x0: diverged.step, x1: diverged.step, yref: "paper", y0: 0, y1: 1, line: { color: "#b00020", width: 2, dash: "dot" } }]
      : [],
    annotations: diverged
      ? [{ x: diverged.step, yref: "paper", y: 1, text: t("chart.diverged"), showarrow: false, xanchor: "right", font: { color: "#b00020" } }]
      : [],
    uirevision: "keep", // zoom survives updates
  };
}

const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };

function replaceAll() {
  const history = store.history;
  window.Plotly.react(element, traces(), chartLayout(), CONFIG);
  sentVersion = history.version;
  sentLength = history.steps.length;
  drawnDivergence = store.diverged;
  relabel = false;
}

function extend() {
  const history = store.history;
  const from = sentLength;
  const to = history.steps.length;
  if (to <= from) return;
  const x = history.steps.slice(from, to);
  window.Plotly.extendTraces(element, { x: [x, x], y: [history.train.slice(from, to), history.test.slice(from, to)] }, [0, 1]);
  sentLength = to;
}

/** Runs plotly.min.js (preloaded by the page) after the first drawing, so the network shows first. */
function loadPlotly() {
  if (window.Plotly || document.getElementById("plotly-script")) return;
  const script = document.createElement("script");
  script.id = "plotly-script";
  script.src = "/vendor/plotly.min.js";
  script.addEventListener("load", () => markDirty(DIRTY.history | DIRTY.lang));
  script.addEventListener("error", () => pushError(t("error.plotly")));
  document.head.append(script);
}

export function initCharts() {
  watchSize(element, () => {
    if (created) window.Plotly.Plots.resize(element);
  });
  logToggle.addEventListener("change", () => {
    if (created) window.Plotly.relayout(element, { "yaxis.type": logToggle.checked ? "log" : "linear" });
  });
  registerRenderer({
    name: "loss-chart",
    mask: DIRTY.history | DIRTY.lang | DIRTY.notices,
    render(flags, now) {
      if (!window.Plotly) {
        if (store.network) setTimeout(loadPlotly, 50); // after this frame is painted
        return;
      }
      if (!created) {
        window.Plotly.newPlot(element, traces(), chartLayout(), CONFIG);
        created = true;
        sentVersion = store.history.version;
        sentLength = store.history.steps.length;
        lastUpdate = now;
        return;
      }
      if (flags & DIRTY.lang) relabel = true;
      // at most UPDATE_HZ redraws a second: come back later for what arrives in between
      const wait = 1000 / UPDATE_HZ - (now - lastUpdate);
      if (wait > 0) {
        if (!pending) {
          pending = setTimeout(() => {
            pending = null;
            markDirty(DIRTY.history);
          }, wait);
        }
        return;
      }
      lastUpdate = now;
      if (relabel || store.history.version !== sentVersion || store.diverged !== drawnDivergence) replaceAll();
      else extend();
    },
  });
}
