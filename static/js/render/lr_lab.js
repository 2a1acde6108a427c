// The learning-rate lab (docs/product.md): the race's overlaid loss curves with diverged copies
// marked and a decision-boundary thumbnail per copy, the U-curve with the step the current
// rate takes drawn as an arrow, and the range test with its suggestion. Charts are Plotly (the
// global `Plotly`, served by the app); each view is redrawn only when its own data changed,
// at most a few times a second while a race streams.

import { applySuggestedRate, raceLimits, refreshLossLine, runRangeTest, startRace, stopRace } from "../lr_lab.js";
import { setInputRange } from "../dom.js";
import { readableNumber, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { analysis, clampToRange } from "../options.js";
import { explain } from "../refusals.js";
import { registerRenderer } from "../loop.js";
import { NEGATIVE_RGB, NEUTRAL_RGB, POSITIVE_RGB, classColours, rgb } from "../palette.js";
import { DIRTY, markDirty, store } from "../store.js";
import { logTicks, plotLocale } from "./plot_axes.js";
import { initRateNotice } from "./rate_notice.js";

const REDRAW_MS = 250; // a race streams 30 messages a second; a chart redraw costs 50–100 ms here
const CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };
const COPY_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7a7a7a", "#000000"];
const DIVERGED = "#b00020";
const copyColour = (index) => COPY_COLOURS[index % COPY_COLOURS.length]; // the server decides how many copies

const $ = (id) => document.getElementById(id);
const raceChart = $("lr-race-chart");
const raceCopies = $("lr-race-copies");
const raceRates = $("lr-race-rates");
const raceSteps = $("lr-race-steps");
const raceHint = $("lr-race-rates-hint");
const raceStart = $("lr-race-start");
const raceStop = $("lr-race-stop");
const lineChart = $("lr-line-chart");
const lineSummary = $("lr-line-summary");
const rangeChart = $("lr-range-chart");
const rangeRun = $("lr-range-run");
const rangeSuggestion = $("lr-range-suggestion");
const rangeApply = $("lr-range-apply");

/** A number as the reader writes it (a decimal comma in Indonesian). */
const num = (value, digits = 3) => shortNumber(value, digits, store.lang);

const drawn = { race: -1, raceId: null, line: null, range: null, lang: null, form: null };

function baseLayout(xTitle, yTitle, xLog, yLog) {
  return {
    ...plotLocale(),
    margin: { l: 52, r: 10, t: 8, b: 40 },
    font: { family: "system-ui, sans-serif", size: 11, color: "#222" },
    xaxis: { title: { text: xTitle }, type: xLog ? "log" : "linear", zeroline: false },
    yaxis: { title: { text: yTitle }, type: yLog ? "log" : "linear" },
    showlegend: false,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    shapes: [],
    annotations: [],
  };
}

// --- the race ---------------------------------------------------------------------------
function drawRaceChart(race) {
  const traces = race.curves.map((curve, index) => ({
    x: curve.steps, y: curve.loss, type: "scatter", mode: "lines", name: `η = ${num(race.copies[index].learning_rate)}`,
    line: { color: copyColour(index), width: 2 }, hovertemplate: "%{y:.4g}<extra>%{fullData.name}</extra>",
  }));
  const layout = baseLayout(t("lrlab.step_axis"), t("lrlab.loss_axis"), false, true);
  layout.datarevision = race.version; // the curves' arrays grow in place: tell Plotly to look again
  layout.xaxis.range = [0, race.steps];
  // a diverging copy's loss climbs by hundreds of decades: the axis stops at 10× the start
  const start = race.curves.map((curve) => curve.loss[0]).filter((value) => value > 0);
  const lows = race.curves.flatMap((curve) => curve.loss).filter((value) => value > 0);
  if (start.length && lows.length) {
    layout.yaxis.range = [Math.log10(Math.min(...lows)) - 0.2, Math.log10(Math.max(...start) * 10)];
    Object.assign(layout.yaxis, logTicks(...layout.yaxis.range));
    markLeavers(race, layout, 10 ** layout.yaxis.range[1]);
  }
  race.copies.forEach((copy, index) => {
    if (copy.diverged_at === null) return;
    layout.shapes.push({ type: "line", x0: copy.diverged_at, x1: copy.diverged_at, yref: "paper", y0: 0, y1: 1,
      line: { color: copyColour(index), width: 2, dash: "dot" } });
    layout.annotations.push({ x: copy.diverged_at, yref: "paper", y: 1, text: `✕ ${t("lrlab.diverged_mark")}`,
      showarrow: false, xanchor: "right", font: { color: DIVERGED } });
  });
  window.Plotly.react(raceChart, traces, layout, CONFIG);
}

/** A copy whose loss climbs past the chart's top is marked where it leaves, with its latest
 * finite value ("↑ 160"), so a curve that left the chart is not taken for one that stopped. */
function markLeavers(race, layout, top) {
  race.curves.forEach((curve, index) => {
    const leaves = curve.loss.findIndex((value) => value > top);
    if (leaves < 0 || race.copies[index].diverged_at !== null) return; // a diverged copy has its own mark
    const latest = curve.loss.findLast((value) => Number.isFinite(value));
    layout.annotations.push({ x: curve.steps[leaves], yref: "paper", y: 1, yanchor: "top", showarrow: false,
      text: `↑ ${num(latest, 3)}`, font: { color: copyColour(index) }, bgcolor: "rgba(255,255,255,0.85)",
      name: "leaves-chart" });
  });
}

function thumbnailImage(race, index, context) {
  const thumbs = race.thumbnails;
  const g = thumbs.resolution;
  const blocks = thumbs.classify ? 2 : 1;
  const start = index * blocks * g * g;
  const image = context.createImageData(g, g);
  const colours = thumbs.classify ? classColours(Math.max(2, store.dataset?.classes ?? 2)) : null;
  for (let row = 0; row < g; row++) {
    for (let col = 0; col < g; col++) {
      const point = row * g + col;
      const out = ((g - 1 - row) * g + col) * 4; // row 0 is the bottom of the plane
      let colour;
      let weight;
      if (colours) {
        colour = colours[thumbs.data[start + g * g + point]] ?? NEUTRAL_RGB;
        weight = thumbs.data[start + point] / 255;
      } else {
        const value = thumbs.data[start + point] / 255;
        colour = value < 0.5 ? NEGATIVE_RGB : POSITIVE_RGB;
        weight = Math.abs(value - 0.5) * 2;
      }
      for (let c = 0; c < 3; c++) image.data[out + c] = Math.round(NEUTRAL_RGB[c] + (colour[c] - NEUTRAL_RGB[c]) * weight);
      image.data[out + 3] = 255;
    }
  }
  return image;
}

function drawRaceCopies(race) {
  const items = race.copies.map((copy, index) => {
    const item = document.createElement("li");
    item.dataset.rate = String(copy.learning_rate);
    item.dataset.step = String(copy.step);
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = copyColour(index);
    item.append(swatch);
    if (race.thumbnails) {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = race.thumbnails.resolution;
      canvas.className = "lr-thumb";
      canvas.setAttribute("aria-hidden", "true");
      const context = canvas.getContext("2d");
      context.putImageData(thumbnailImage(race, index, context), 0, 0);
      item.append(canvas);
    }
    const text = document.createElement("span");
    const rate = num(copy.learning_rate);
    if (copy.diverged_at !== null) {
      item.classList.add("diverged");
      item.dataset.divergedAt = String(copy.diverged_at);
      text.textContent = t("lrlab.race_diverged", { rate, step: copy.diverged_at });
    } else {
      text.textContent = t("lrlab.race_copy", { rate, loss: num(copy.loss, 4), step: copy.step });
    }
    item.append(text);
    return item;
  });
  const status = document.createElement("li");
  status.className = "lr-race-status";
  status.dataset.status = race.status;
  status.textContent = t(`lrlab.race_status_${race.status}`, { step: race.step, steps: race.steps });
  raceCopies.replaceChildren(status, ...items);
  raceCopies.dataset.status = race.status;
  const running = race.status === "running" || race.status === "started";
  raceStop.disabled = !running;
}

// --- the loss line ----------------------------------------------------------------------
function drawLine(line) {
  if (line.status === "error") {
    lineSummary.textContent = t("lrlab.line_failed", { message: explain(line.error) });
    return;
  }
  const r = line.result;
  if (!r) return;
  const maxRate = r.rates[r.rates.length - 1];
  const wide = r.rates[0] > 0; // log-spaced (lr_lab.js asks so for a wide line): a log axis
  const layout = baseLayout(wide ? t("lrlab.rate_axis") : t("lrlab.line_rate"), t("lrlab.line_loss"), wide, false);
  // the loss axis spans the U itself (today's loss, the bottom, the way down to it), so a dip of
  // 2 % on a plateau shows as a U and not as a flat line; what climbs past it leaves the chart
  const finite = r.loss.filter((value) => value !== null && Number.isFinite(value));
  const upToBest = finite.slice(0, Math.max(1, r.loss.indexOf(r.best_loss) + 1));
  const high = Math.max(r.current_loss ?? 0, ...upToBest);
  const low = Math.min(r.best_loss ?? high, ...finite);
  const pad = Math.max(0.15 * (high - low), 1e-3 * Math.abs(high));
  const top = high + pad;
  layout.yaxis.range = [Math.max(0, low - pad), top];
  const landing = r.landing_loss === null ? top : Math.min(r.landing_loss, top);
  // a log axis places annotations and shapes by log₁₀ of the rate; its range starts at half the current rate
  const at = (rate) => (wide ? Math.log10(rate) : rate);
  if (wide) {
    layout.xaxis.range = [Math.log10(r.current_rate / 2), Math.log10(maxRate)];
    Object.assign(layout.xaxis, logTicks(...layout.xaxis.range));
  }
  layout.annotations.push({
    // from today's loss at the left edge (η = 0, or the log axis's start) to where this rate lands
    x: at(r.current_rate), y: landing, ax: wide ? layout.xaxis.range[0] : 0, ay: r.current_loss, axref: "x", ayref: "y",
    xref: "x", yref: "y", showarrow: true, arrowhead: 3, arrowsize: 1.4, arrowwidth: 2, arrowcolor: DIVERGED, text: "",
  });
  layout.annotations.push({ x: at(r.current_rate), y: landing, text: t("lrlab.line_step"), showarrow: false, yshift: 12,
    font: { color: DIVERGED } });
  layout.shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: r.current_loss, y1: r.current_loss,
    line: { color: "#999", width: 1, dash: "dot" } });
  const shown = r.rates.map((rate, index) => [rate, r.loss[index]]).filter(([rate]) => !wide || rate > 0);
  const traces = [{ x: shown.map((point) => point[0]), y: shown.map((point) => point[1]), type: "scatter", mode: "lines",
    line: { color: rgb(POSITIVE_RGB), width: 2 }, hovertemplate: "η = %{x:.4g}: %{y:.4g}<extra></extra>" }];
  window.Plotly.react(lineChart, traces, layout, CONFIG);
  lineChart.dataset.axis = wide ? "log" : "linear";
  lineChart.dataset.bestOnChart = String(r.best_rate < maxRate);
  lineChart.dataset.currentRate = String(r.current_rate);
  lineChart.dataset.landingLoss = String(r.landing_loss);
  lineChart.dataset.currentLoss = String(r.current_loss);
  lineChart.dataset.maxRate = String(maxRate);
  lineChart.dataset.overshoots = String(r.current_rate > r.best_rate);
  let summary = t("lrlab.line_summary", { today: num(r.current_loss, 4), rate: num(r.current_rate),
    landing: num(r.landing_loss, 4), best: num(r.best_rate) });
  if (r.overshoot_rate !== null) summary += " " + t("lrlab.line_overshoot", { rate: num(r.overshoot_rate) });
  if (r.best_rate >= maxRate) summary += " " + t("lrlab.line_beyond", { rate: num(maxRate), multiple: readableNumber(Math.round(maxRate / r.current_rate), store.lang) });
  lineSummary.textContent = summary;
}

// --- the range test ---------------------------------------------------------------------
function drawRange(test) {
  rangeRun.disabled = test.status === "running";
  rangeApply.disabled = test.status !== "done";
  if (test.status === "running") {
    rangeSuggestion.textContent = t("lrlab.range_running");
    return;
  }
  if (test.status === "error") {
    rangeSuggestion.textContent = t("lrlab.range_failed", { message: explain(test.error) });
    return;
  }
  const r = test.result;
  const layout = baseLayout(t("lrlab.rate_axis"), t("lrlab.loss_axis"), true, false);
  const rates = r.rates.filter((rate) => rate > 0);
  if (rates.length) Object.assign(layout.xaxis, logTicks(Math.log10(Math.min(...rates)), Math.log10(Math.max(...rates))));
  layout.shapes.push({ type: "line", x0: Math.log10(r.suggested_rate), x1: Math.log10(r.suggested_rate), yref: "paper", y0: 0, y1: 1,
    line: { color: DIVERGED, width: 2 } });
  const traces = [
    { x: r.rates, y: r.loss, type: "scatter", mode: "markers", name: t("lrlab.range_loss"),
      marker: { color: "#bbb", size: 3 } },
    { x: r.rates, y: r.smoothed, type: "scatter", mode: "lines", name: t("lrlab.range_smoothed"),
      line: { color: rgb(POSITIVE_RGB), width: 2 } },
  ];
  window.Plotly.react(rangeChart, traces, layout, CONFIG);
  rangeChart.dataset.suggestedRate = String(r.suggested_rate);
  let text = t("lrlab.range_suggestion", { rate: num(r.suggested_rate) });
  if (r.stopped_at !== null) text += " " + t("lrlab.range_stopped", { rate: num(r.rates[r.rates.length - 1]) });
  rangeSuggestion.textContent = text;
}

/** The race form's limits and hint, from the options (what a race accepts). */
function syncForm() {
  const key = `${store.lang} ${store.options === null}`;
  if (drawn.form === key) return;
  drawn.form = key;
  const steps = analysis("race").steps;
  setInputRange(raceSteps, steps);
  if (raceSteps.value === "" && steps) raceSteps.value = String(steps.default);
  raceHint.textContent = t("lrlab.race_rates_hint", raceLimits());
}

function render() {
  syncForm();
  if (!window.Plotly) {
    setTimeout(() => markDirty(DIRTY.lab), 200); // plotly.min.js is still loading (charts.js runs it)
    return;
  }
  const langChanged = drawn.lang !== store.lang;
  drawn.lang = store.lang;
  const race = store.race;
  if (race && (langChanged || race.version !== drawn.race || race.id !== drawn.raceId)) {
    drawRaceChart(race);
    drawRaceCopies(race);
    drawn.race = race.version;
    drawn.raceId = race.id;
  }
  if (store.lossLine && (langChanged || store.lossLine !== drawn.line)) {
    drawLine(store.lossLine);
    drawn.line = store.lossLine;
  }
  if (store.rangeTest && (langChanged || store.rangeTest !== drawn.range)) {
    drawRange(store.rangeTest);
    drawn.range = store.rangeTest;
  }
}

export function initLrLabView() {
  initRateNotice();
  const start = () => {
    const steps = analysis("race").steps;
    startRace(raceRates.value, clampToRange(steps, Number(raceSteps.value) || steps.default));
  };
  raceStart.addEventListener("click", start);
  raceRates.addEventListener("keydown", (event) => {
    if (event.key === "Enter") start();
  });
  raceStop.addEventListener("click", stopRace);
  $("lr-line-refresh").addEventListener("click", refreshLossLine);
  rangeRun.addEventListener("click", runRangeTest);
  rangeApply.addEventListener("click", applySuggestedRate);
  registerRenderer({ name: "lr-lab", mask: DIRTY.lab | DIRTY.lang, interval: REDRAW_MS, urgent: DIRTY.lang, render });
}
