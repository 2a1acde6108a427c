// Saved runs side by side (GET /api/v1/runs/compare, docs/api.md "Comparing runs"): their loss
// curves overlaid in one Plotly chart (each run one colour, training loss solid, test loss
// dashed; the server aligned them on one axis of steps, null where a run recorded nothing, and
// the lines bridge those gaps), and a table of the config fields whose values differ, one column
// per run. Names are text, never markup; numbers and choices in the reader's language.

import { el, setText } from "./dom.js";
import { decimalSeparator, listSeparator, readableNumber } from "./format.js";
import { has, t } from "./i18n.js";
import { classColours, rgb } from "./palette.js";
import { fieldLabel } from "./refusals.js";
import { store } from "./store.js";

const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };
const CHOICES = { dataset: "dataset", activation: "activation", optimizer: "optimizer", loss: "loss",
  regularization: "regularization", init: "init", features: "feature" }; // a field → its names' i18n prefix

/** A config value as the reader reads it: a named choice translated, numbers localised, lists joined. */
export function valueText(field, value) {
  if (Array.isArray(value)) {
    return value.length ? value.map((item) => valueText(field, item)).join(listSeparator(store.lang)) : "–";
  }
  if (typeof value === "number") return readableNumber(value, store.lang);
  if (value === null || value === undefined) return "–";
  const key = CHOICES[field] && `${CHOICES[field]}.${value}`;
  return key && has(key) ? t(key) : String(value);
}

function traces(comparison) {
  const colours = classColours(Math.max(3, comparison.runs.length)); // Okabe–Ito: colour-blind safe
  const hover = "%{y:.4f}<extra>%{fullData.name}</extra>";
  return comparison.runs.flatMap((run, index) => {
    const curve = comparison.curves[index];
    const colour = rgb(colours[index]);
    return [
      { x: comparison.steps, y: curve.train_loss, name: `${run.name} · ${t("chart.train")}`, type: "scatter",
        mode: "lines", connectgaps: true, line: { color: colour, width: 2 }, hovertemplate: hover },
      { x: comparison.steps, y: curve.test_loss, name: `${run.name} · ${t("chart.test")}`, type: "scatter",
        mode: "lines", connectgaps: true, line: { color: colour, width: 2, dash: "dash" }, hovertemplate: hover },
    ];
  });
}

function layout() {
  const fontSize = parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.8;
  return {
    margin: { l: 56, r: 12, t: 8, b: 42 },
    font: { family: "system-ui, sans-serif", size: fontSize, color: "#222" },
    separators: decimalSeparator() === "," ? ",." : ".,",
    xaxis: { title: { text: t("chart.step") }, zeroline: false, rangemode: "nonnegative" },
    yaxis: { title: { text: t("chart.loss") }, rangemode: "tozero" },
    showlegend: false, // the legend is HTML (Plotly's writes style attributes, which the page's CSP refuses)
    hovermode: "x",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
  };
}

function differencesTable(comparison) {
  if (!comparison.differences.length) return el("p", "hint", t("runs.compare_same"));
  const table = el("table", "runs-compare-table");
  table.dataset.testid = "runs-compare-table";
  table.append(el("caption", "", t("runs.compare_differences")));
  const head = el("tr");
  head.append(el("th", "", t("runs.compare_field")));
  for (const run of comparison.runs) {
    const cell = el("th", "", run.name); // text: HTML in a name stays text
    cell.scope = "col";
    head.append(cell);
  }
  const body = el("tbody");
  for (const difference of comparison.differences) {
    const row = el("tr");
    const name = el("th", "", fieldLabel(difference.field));
    name.scope = "row";
    row.dataset.field = difference.field;
    row.append(name, ...difference.values.map((value) => el("td", "", valueText(difference.field, value))));
    body.append(row);
  }
  const thead = el("thead");
  thead.append(head);
  table.append(thead, body);
  return table;
}

/** Each run's colour and name; a solid line is its training loss, a dashed one its test loss. */
function legend(comparison) {
  const colours = classColours(Math.max(3, comparison.runs.length));
  const list = el("ul", "runs-compare-legend");
  list.dataset.testid = "runs-compare-legend";
  comparison.runs.forEach((run, index) => {
    const swatch = el("span", "runs-compare-swatch");
    swatch.style.backgroundColor = rgb(colours[index]); // CSSOM, which the CSP allows
    const item = el("li");
    item.append(swatch, el("span", "", run.name));
    list.append(item);
  });
  list.append(el("li", "hint", t("runs.compare_lines")));
  return list;
}

/** Draws `comparison` into `chart` (a div) and `details` (the legend's and table's place). */
export function drawComparison(chart, details, title, comparison) {
  setText(title, t("runs.compare_title", { n: comparison.runs.length }));
  details.replaceChildren(legend(comparison), differencesTable(comparison));
  chart.setAttribute("aria-label", t("runs.compare_chart_label", {
    names: comparison.runs.map((run) => run.name).join(listSeparator(store.lang)),
  }));
  if (window.Plotly) window.Plotly.react(chart, traces(comparison), layout(), CONFIG);
}

/** Frees the chart Plotly drew. */
export function clearComparison(chart) {
  if (window.Plotly) window.Plotly.purge(chart);
}
