// The class's own experiment (docs/classroom.md): one point per student, a hyperparameter they
// chose against how their network does, live. A class of thirty choosing their own learning rates
// draws the lesson's U-curve together. Plotly (the app serves it, /vendor/plotly.min.js), loaded
// after the grid first shows, redrawn twice a second at most.

import { setText } from "../dom.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { POSITIVE_CSS } from "../palette.js";
import { logTicks, plotLocale } from "../render/plot_axes.js";
import { DIRTY, markDirty, setScatterAxes, state } from "./state.js";
import { higherIsBetter, metricLabel, metricValue, shownName } from "./words.js";

// Plotly redraws the whole chart (tens of ms on a busy laptop): once a second is live enough for
// the class's experiment, and a redraw that would move no point by a pixel is skipped.
const REDRAW_MS = 1000;
let drawn = ""; // what the chart shows now: its points to three digits, its axes, words and size
const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };

/** The hyperparameters the x axis offers: how each is read from a config, and its axis type. */
const HYPERPARAMETERS = {
  learning_rate: { value: (config) => config.learning_rate, log: true },
  batch_size: { value: (config) => config.batch_size, log: true },
  hidden_neurons: { value: (config) => config.hidden_layers.reduce((sum, n) => sum + n, 0), log: false },
  regularization_rate: { value: (config) => config.regularization_rate, log: false },
};

const chart = document.getElementById("class-scatter");
const xSelect = document.getElementById("class-scatter-x");
const ySelect = document.getElementById("class-scatter-y");
const summary = document.getElementById("class-scatter-summary");

function points() {
  const hyper = HYPERPARAMETERS[state.scatterX];
  const x = [];
  const y = [];
  const names = [];
  for (const student of state.view?.students ?? []) {
    const session = student.session;
    if (!session) continue;
    const xValue = hyper.value(session.config);
    const yValue = session.metrics?.[state.scatterY];
    if (!Number.isFinite(xValue) || !Number.isFinite(yValue)) continue;
    if (hyper.log && xValue <= 0) continue;
    x.push(xValue);
    y.push(yValue);
    names.push(shownName(student));
  }
  return { x, y, names };
}

function axis(title, log, values) {
  const layout = { title: { text: title }, type: log ? "log" : "linear", zeroline: false, automargin: true };
  if (log && values.length) {
    const low = Math.log10(Math.min(...values)) - 0.3;
    const high = Math.log10(Math.max(...values)) + 0.3;
    Object.assign(layout, logTicks(low, high), { range: [low, high] });
  }
  return layout;
}

/** Three significant digits: finer than a pixel of the chart. */
const rounded = (values) => values.map((value) => Number(value.toPrecision(3)));

function draw() {
  if (!window.Plotly) return;
  const { x, y, names } = points();
  const shown = JSON.stringify([rounded(x), rounded(y), names, state.scatterX, state.scatterY, state.projector,
                                document.documentElement.lang, chart.clientWidth]);
  if (shown === drawn) return;
  drawn = shown;
  const xLog = HYPERPARAMETERS[state.scatterX].log;
  const yLog = !higherIsBetter(state.scatterY) && y.length > 0 && y.every((value) => value > 0);
  const size = state.projector ? 16 : 11;
  const trace = {
    x, y, text: names, type: "scatter", mode: "markers",
    marker: { size, color: POSITIVE_CSS, opacity: 0.85, line: { color: "#fff", width: 1 } },
    hovertemplate: "%{text}: %{x} → %{y:.4g}<extra></extra>",
  };
  const layout = {
    ...plotLocale(),
    margin: { l: 60, r: 12, t: 8, b: 48 },
    font: { family: "system-ui, sans-serif", size: state.projector ? 16 : 12, color: "#222" },
    xaxis: axis(t(`class.hyper.${state.scatterX}`), xLog, x),
    yaxis: axis(metricLabel(state.scatterY), yLog, y),
    showlegend: false,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    datarevision: state.version,
  };
  if (higherIsBetter(state.scatterY)) layout.yaxis.tickformat = ".0%";
  window.Plotly.react(chart, [trace], layout, CONFIG);
  chart.dataset.points = String(x.length);
  setText(summary, t("class.scatter_summary", {
    count: x.length,
    best: y.length ? metricValue(state.scatterY, higherIsBetter(state.scatterY) ? Math.max(...y) : Math.min(...y)) : "–",
  }));
}

function fillSelect(select, values, labelOf, chosen) {
  const options = values.map((value) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = labelOf(value);
    return option;
  });
  select.replaceChildren(...options);
  select.value = chosen;
}

/** Runs plotly.min.js once, after the grid's first drawing, so the cards show first. */
export function loadPlotly() {
  if (window.Plotly || document.getElementById("plotly-script")) return;
  const script = document.createElement("script");
  script.id = "plotly-script";
  script.src = "/vendor/plotly.min.js";
  script.addEventListener("load", () => markDirty(DIRTY.scatter));
  document.head.append(script);
}

export function initScatter() {
  // the panel changes width with the window, projector mode and the grid's column: Plotly follows
  new ResizeObserver(() => {
    if (window.Plotly && chart.classList.contains("js-plotly-plot")) window.Plotly.Plots.resize(chart);
  }).observe(chart);
  const change = () => setScatterAxes(xSelect.value, ySelect.value);
  xSelect.addEventListener("change", change);
  ySelect.addEventListener("change", change);
  registerRenderer({
    name: "class-scatter",
    mask: DIRTY.view | DIRTY.lang | DIRTY.scatter | DIRTY.projector | DIRTY.names,
    interval: REDRAW_MS,
    urgent: DIRTY.lang | DIRTY.scatter | DIRTY.projector | DIRTY.names,
    render(flags) {
      if (flags & DIRTY.lang) {
        fillSelect(xSelect, Object.keys(HYPERPARAMETERS), (name) => t(`class.hyper.${name}`), state.scatterX);
        fillSelect(ySelect, ["train_loss", "test_loss", "test_accuracy"], metricLabel, state.scatterY);
      }
      draw();
    },
  });
}
