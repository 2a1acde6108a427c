// The output over the input plane — the decision boundary (classification) or the regression
// surface — with the training points (white rim) and test points (dark rim) on top, the chosen
// sample ringed. Click a point to choose it for teaching mode; hover for the network's output
// at that place, read from the latest heatmap.
//
// Two stacked canvases: the image (redrawn when heatmaps arrive, ≤ 10 a second) and the points
// (redrawn when the data, the chosen sample or the size change).

import { groupedInteger, listSeparator, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { classColours, divergingCss, rgb } from "../palette.js";
import { DIRTY, markDirty, setHover, store } from "../store.js";
import { chooseSample } from "../teaching.js";
import { beginDraw, fitCanvas, placeTooltip, watchSize } from "./canvas.js";
import { OutputImage } from "./heatmap.js";
import { inputLabel } from "./network_names.js";

const MARGIN = { left: 26, bottom: 20, top: 4, right: 4 };

const container = document.getElementById("decision-boundary");
const imageCanvas = document.getElementById("boundary-canvas");
const pointsCanvas = document.getElementById("points-canvas");
const imageContext = imageCanvas.getContext("2d");
const pointsContext = pointsCanvas.getContext("2d");
const tooltip = document.getElementById("boundary-tooltip");
const showTest = document.getElementById("show-test");

const output = new OutputImage();
const pointsCache = document.createElement("canvas");
let drawnSample = "";
let drawnExtent = "";
let width = 0;
let height = 0;

/** The plot's box inside the output view, in CSS pixels (js/draw_points.js maps clicks with it). */
export function plotBox() {
  return {
    x: MARGIN.left,
    y: MARGIN.top,
    width: Math.max(10, width - MARGIN.left - MARGIN.right),
    height: Math.max(10, height - MARGIN.top - MARGIN.bottom),
  };
}

/** The data limits the plane shows: [x1Min, x1Max, x2Min, x2Max]. */
export function extent() {
  return store.heatmaps?.extent ?? store.dataset?.extent ?? [-6, 6, -6, 6];
}

// while the class draws data (js/draw_points.js) the plane's frame holds still: the server frames
// each upload to its own points, and a drawn point must stay where it was clicked. `held()` is
// {view, data}: the limits on screen, and where the data's extent lies within them; or null.
let held = () => null;

/** js/draw_points.js's hold on the frame (a function answering `{view, data}` or null). */
export function holdFrame(provider) {
  held = provider;
}

/** Where the data's extent lies on screen: the plot box, or while the frame is held the part of
 * it (possibly larger: it is clipped) that extent covers. */
function dataBox() {
  const box = plotBox();
  const frame = held();
  if (!frame) return box;
  const [v1Min, v1Max, v2Min, v2Max] = frame.view;
  const [d1Min, d1Max, d2Min, d2Max] = frame.data;
  const sx = box.width / (v1Max - v1Min);
  const sy = box.height / (v2Max - v2Min);
  return { x: box.x + (d1Min - v1Min) * sx, y: box.y + (v2Max - d2Max) * sy, width: (d1Max - d1Min) * sx, height: (d2Max - d2Min) * sy };
}

function clipTo(context, box) {
  context.beginPath();
  context.rect(box.x, box.y, box.width, box.height);
  context.clip();
}

function toScreen(x1, x2, box, [x1Min, x1Max, x2Min, x2Max]) {
  return [box.x + ((x1 - x1Min) / (x1Max - x1Min)) * box.width, box.y + (1 - (x2 - x2Min) / (x2Max - x2Min)) * box.height];
}

/** max |target| of a regression set: the colour scale of values. */
function valueRange() {
  const dataset = store.dataset;
  let range = 1e-9;
  for (const split of ["train", "test"]) for (const value of dataset?.[split]?.values ?? []) range = Math.max(range, Math.abs(value));
  return range;
}

function drawImage() {
  beginDraw(imageContext, width, height);
  const box = plotBox();
  const network = store.network;
  if (store.heatmaps && network) {
    output.update(store.heatmaps, network.layer_sizes, network.output, valueRange());
  } else {
    output.ready = false;
  }
  imageContext.fillStyle = "#f3f3f0";
  imageContext.fillRect(box.x, box.y, box.width, box.height);
  if (output.ready) {
    const area = dataBox();
    imageContext.save();
    clipTo(imageContext, box);
    imageContext.imageSmoothingEnabled = true;
    imageContext.drawImage(output.canvas, area.x, area.y, area.width, area.height);
    imageContext.restore();
  }
}

function drawAxes(context, box, [x1Min, x1Max, x2Min, x2Max]) {
  context.strokeStyle = "#888";
  context.lineWidth = 1;
  context.strokeRect(box.x + 0.5, box.y + 0.5, box.width - 1, box.height - 1);
  context.fillStyle = "#444";
  context.font = "11px system-ui, sans-serif";
  context.textBaseline = "top";
  context.textAlign = "left";
  context.fillText(shortNumber(x1Min, 2), box.x, box.y + box.height + 4);
  context.textAlign = "right";
  context.fillText(shortNumber(x1Max, 2), box.x + box.width, box.y + box.height + 4);
  context.textAlign = "center";
  const names = store.dataset?.planar === false ? store.network?.input_names ?? [] : [];
  context.fillText(names[0] === undefined ? "x₁" : inputLabel(names[0]), box.x + box.width / 2, box.y + box.height + 4);
  context.textBaseline = "middle";
  context.textAlign = "right";
  context.fillText(shortNumber(x2Max, 2), box.x - 4, box.y + 6);
  context.fillText(shortNumber(x2Min, 2), box.x - 4, box.y + box.height - 6);
  context.save(); // the vertical axis's name, written upwards beside it
  context.translate(box.x - 10, box.y + box.height / 2);
  context.rotate(-Math.PI / 2);
  context.textAlign = "center";
  context.fillText(names[1] === undefined ? "x₂" : inputLabel(names[1]), 0, 0, box.height * 0.6);
  context.restore();
}

/** Draws every point into the cache canvas (once per data set, size or test-point toggle). */
function drawPointsCache() {
  const ratio = window.devicePixelRatio || 1;
  pointsCache.width = Math.max(1, Math.round(width * ratio));
  pointsCache.height = Math.max(1, Math.round(height * ratio));
  const context = pointsCache.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  const dataset = store.dataset;
  if (!dataset) return;
  const box = plotBox();
  const limits = extent();
  drawAxes(context, box, held()?.view ?? limits);
  const area = dataBox();
  const radius = pointRadius(box);
  const colours = dataset.classes ? classColours(dataset.classes) : null;
  const range = colours ? 1 : valueRange();
  const classStyles = colours ? colours.map((colour) => rgb(colour)) : null;
  context.save();
  clipTo(context, box);
  for (const split of showTest.checked ? ["train", "test"] : ["train"]) {
    const part = dataset[split];
    const points = part?.points ?? [];
    context.lineWidth = split === "train" ? 1 : 1.6;
    context.strokeStyle = split === "train" ? "#fff" : "#111";
    for (let index = 0; index < points.length; index++) {
      const [x, y] = toScreen(points[index][0], points[index][1], area, limits);
      context.beginPath();
      context.arc(x, y, radius, 0, Math.PI * 2);
      context.fillStyle = part.labels ? classStyles[part.labels[index]] : divergingCss(part.values[index], range);
      context.fill();
      context.stroke();
    }
  }
  context.restore();
}

function pointRadius(box) {
  return Math.max(2.5, Math.min(5, box.width / 100));
}

/** The cached points plus a ring around the chosen sample. */
function drawPoints() {
  beginDraw(pointsContext, width, height);
  if (!store.dataset) return;
  pointsContext.drawImage(pointsCache, 0, 0, width, height);
  const sample = store.sample;
  const chosen = store.dataset[sample.split]?.points?.[sample.index];
  if (!chosen) return;
  const box = plotBox();
  const [x, y] = toScreen(chosen[0], chosen[1], dataBox(), extent());
  const radius = pointRadius(box) + 5;
  pointsContext.lineWidth = 3;
  pointsContext.strokeStyle = "#fff";
  pointsContext.beginPath();
  pointsContext.arc(x, y, radius, 0, Math.PI * 2);
  pointsContext.stroke();
  pointsContext.lineWidth = 1.8;
  pointsContext.strokeStyle = "#111";
  pointsContext.stroke();
}

/** The point nearest the pointer within 10 px, as {split, index}. */
function pointAt(event) {
  const dataset = store.dataset;
  if (!dataset) return null;
  const bounds = container.getBoundingClientRect();
  const px = event.clientX - bounds.left;
  const py = event.clientY - bounds.top;
  const box = dataBox();
  const limits = extent();
  let best = null;
  let bestDistance = 100;
  for (const split of showTest.checked ? ["train", "test"] : ["train"]) {
    const points = dataset[split]?.points ?? [];
    for (let index = 0; index < points.length; index++) {
      const [x, y] = toScreen(points[index][0], points[index][1], box, limits);
      const distance = (x - px) ** 2 + (y - py) ** 2;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = { split, index };
      }
    }
  }
  return best;
}

function tooltipText(hover) {
  const [x1Min, x1Max, x2Min, x2Max] = extent();
  const u = hover.u;
  const v = hover.v;
  const x1 = x1Min + u * (x1Max - x1Min);
  const x2 = x2Min + v * (x2Max - x2Min);
  const lines = [`x₁ = ${shortNumber(x1)}${listSeparator()}x₂ = ${shortNumber(x2)}`];
  if (store.heatmaps && output.ready) {
    const values = OutputImage.valuesAt(store.heatmaps, u, v);
    if (store.network.output === "softmax") {
      const names = store.dataset?.class_names;
      lines.push(values.map((p, k) => `p(${names?.[k] ?? k}) = ${shortNumber(p)}`).join("  "));
    } else {
      lines.push(`ŷ = ${shortNumber(values[0])}`);
    }
  }
  if (hover.point) {
    const part = store.dataset[hover.point.split];
    const truth = part.labels ? store.dataset.class_names?.[part.labels[hover.point.index]] ?? part.labels[hover.point.index] : shortNumber(part.values[hover.point.index]);
    lines.push(t("output.point_tooltip", { split: t(`teach.split_${hover.point.split}`), index: groupedInteger(hover.point.index), truth }));
  }
  return lines.join("\n");
}

export function initBoundary() {
  watchSize(container, (w, h) => {
    width = w;
    height = h;
    fitCanvas(imageCanvas, w, h);
    fitCanvas(pointsCanvas, w, h);
    markDirty(DIRTY.layout);
  });
  container.addEventListener("click", (event) => {
    const point = pointAt(event);
    if (point) chooseSample(point.split, point.index);
  });
  container.addEventListener("pointermove", (event) => {
    const bounds = container.getBoundingClientRect();
    const box = dataBox(); // (u, v) within the data's extent, where the heatmap has values
    const u = (event.clientX - bounds.left - box.x) / box.width;
    const v = 1 - (event.clientY - bounds.top - box.y) / box.height;
    if (u < 0 || u > 1 || v < 0 || v > 1) {
      if (store.hover?.target === "boundary") setHover(null);
      return;
    }
    setHover({ target: "boundary", u, v, x: event.clientX - bounds.left, y: event.clientY - bounds.top, point: pointAt(event) });
  });
  container.addEventListener("pointerleave", () => {
    if (store.hover?.target === "boundary") setHover(null);
  });
  showTest.addEventListener("change", () => markDirty(DIRTY.dataset));

  registerRenderer({
    name: "boundary-image",
    mask: DIRTY.heatmaps | DIRTY.layout | DIRTY.network | DIRTY.dataset, // the data set: a frame held or let go
    render() {
      if (width > 0) drawImage();
    },
  });
  registerRenderer({
    name: "boundary-points",
    mask: DIRTY.dataset | DIRTY.probe | DIRTY.layout | DIRTY.heatmaps | DIRTY.lang,
    render(flags) {
      if (width === 0) return;
      const rebuild = flags & (DIRTY.dataset | DIRTY.layout | DIRTY.lang); // the axes' numbers and names
      // heatmaps may bring a new extent; otherwise only a newly chosen sample redraws
      const extentKey = `${extent().join(",")}|${held()?.data.join(",") ?? ""}`;
      const sampleKey = `${store.sample.split}:${store.sample.index}`;
      if (rebuild || extentKey !== drawnExtent) drawPointsCache();
      else if (sampleKey === drawnSample) return;
      drawnExtent = extentKey;
      drawnSample = sampleKey;
      drawPoints();
    },
  });
  registerRenderer({
    name: "boundary-tooltip",
    mask: DIRTY.hover | DIRTY.heatmaps | DIRTY.lang,
    render() {
      const hover = store.hover;
      if (hover?.target !== "boundary") {
        tooltip.hidden = true;
        return;
      }
      tooltip.textContent = tooltipText(hover);
      tooltip.hidden = false;
      placeTooltip(tooltip, hover.x, hover.y, width, height);
    },
  });
}
