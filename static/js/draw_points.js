// Data the class draws: the `draw-points` toggle turns the output plane into a drawing surface.
// A click adds a point of the chosen class (or, for regression, of the chosen value); Shift+click,
// or a click in eraser mode, removes the point nearest the pointer. Each change is uploaded as a
// CSV (x1, x2, then the target) through the ordinary upload (POST /api/v1/datasets) and applied as
// the session's data set, so the network retrains on the drawn set live, a saved run keeps it and
// viewers see it — the same path as a file a student uploads.
//
// Coordinates: the server standardises an uploaded table and shows it over min … max with a 10 %
// margin (engine/datasets.py `_axis_extent`), so left alone the plane would re-frame itself to the
// drawn set after each point. While drawing, the frame holds still instead (`view`, the plane as it
// was when drawing began; render/boundary.js `holdFrame`): the page keeps the drawn points in
// those coordinates, and the set on screen is drawn where its extent lies in them (`frame`: the
// same min … max with a margin, computed over the drawn points), so every point stays where it
// was clicked. Points drawn but not yet on screen (too few to train, or an upload on its way) are
// drawn on an overlay.

import { api } from "./api.js";
import { el, setText } from "./dom.js";
import { parseLocalNumber } from "./format.js";
import { t } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { classColours, divergingCss, rgb } from "./palette.js";
import { explain } from "./refusals.js";
import { holdFrame, extent as planeExtent, plotBox as planeBox } from "./render/boundary.js";
import { beginDraw, fitCanvas, watchSize } from "./render/canvas.js";
import { changeConfig, rememberUpload } from "./settings.js";
import { DIRTY, markDirty, store } from "./store.js";

const MAX_DRAWN_CLASSES = 6; // class buttons offered: the drawn classes plus one new, up to this
const MIN_ROWS = 4; // fewer drawn points are kept on the page until there are enough to split
const UPLOAD_DELAY_MS = 250; // a burst of clicks becomes one upload
const ERASE_RADIUS_PX = 14;
export const DRAWN_FILE = "drawn.csv"; // the upload's file name: the data set's title says it was drawn

const toggle = document.getElementById("draw-points");
const tools = document.getElementById("draw-tools");
const plane = document.getElementById("decision-boundary");
const classButtons = document.getElementById("draw-classes");
const valueField = document.getElementById("draw-value-field");
const valueInput = document.getElementById("draw-value");
const eraseButton = document.getElementById("draw-erase");
const clearButton = document.getElementById("draw-clear");
const status = document.getElementById("draw-status");
const overlay = document.getElementById("draw-canvas");
const overlayContext = overlay.getContext("2d");
let overlayWidth = 0;
let overlayHeight = 0;

const drawing = {
  on: false,
  erasing: false,
  regression: false,
  chosenClass: 0,
  points: [], // [x1, x2, target]: target a class index, or a value for regression
  view: null, // [x1Min, x1Max, x2Min, x2Max]: the plane's frame, held while drawing, in the points' coordinates
  frame: null, // the same of the set on screen's extent (where the server's heatmaps lie in `view`)
  version: 0, // edits so far; `shown` is the version on screen
  shown: 0,
  sent: null, // {id, version, frame} of the last upload
  timer: 0,
  status: null, // {key, vars} or {failure}
};

/** min … max with a 10 % margin each side, as the server frames an uploaded table. */
function axisLimits(values) {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const margin = high > low ? 0.1 * (high - low) : 1;
  return [low - margin, high + margin];
}

/** Once the set last sent is the session's data set, its points and their frame are on screen. */
function noticeShownSet() {
  const sent = drawing.sent;
  if (!sent || store.dataset?.name !== sent.id || drawing.shown === sent.version) return;
  drawing.shown = sent.version;
  drawing.frame = sent.frame;
}

/** Starts from the points on the plane (two-input data only), so drawing edits what is shown. */
function seedFromDataset() {
  const dataset = store.dataset;
  drawing.regression = dataset ? !dataset.classes : false;
  drawing.points = [];
  const twoInputs = store.network?.layer_sizes?.[0] === 2;
  if (!dataset || !twoInputs) return;
  for (const split of ["train", "test"]) {
    const part = dataset[split];
    for (let index = 0; index < (part?.points?.length ?? 0); index++) {
      const [x1, x2] = part.points[index];
      drawing.points.push([x1, x2, part.labels ? part.labels[index] : part.values[index]]);
    }
  }
}

function drawnClasses() {
  let classes = 2;
  if (!drawing.regression) for (const point of drawing.points) classes = Math.max(classes, point[2] + 1);
  return classes;
}

function csvText() {
  const lines = ["x1,x2," + (drawing.regression ? "value" : "class")];
  for (const [x1, x2, target] of drawing.points) lines.push(`${x1},${x2},${target}`);
  return lines.join("\n") + "\n";
}

/** Why the drawn set cannot train yet, as a translation key; null once it can. */
function notReady() {
  if (drawing.points.length < MIN_ROWS) return "draw.need_points";
  if (!drawing.regression && new Set(drawing.points.map((p) => p[2])).size < 2) return "draw.need_classes";
  return null;
}

function edited() {
  drawing.version += 1;
  clearTimeout(drawing.timer);
  const missing = notReady();
  if (missing) {
    drawing.status = { key: missing, vars: { count: MIN_ROWS } };
    markDirty(DIRTY.dataset);
    return;
  }
  drawing.timer = setTimeout(upload, UPLOAD_DELAY_MS);
}

async function upload() {
  const file = new File([csvText()], DRAWN_FILE, { type: "text/csv" });
  const version = drawing.version;
  const frame = [...axisLimits(drawing.points.map((p) => p[0])), ...axisLimits(drawing.points.map((p) => p[1]))];
  drawing.status = { key: "draw.sending", vars: {} };
  markDirty(DIRTY.dataset);
  try {
    const result = await api.uploadDataset(file);
    rememberUpload(result, t("draw.set_name"));
    drawing.sent = { id: result.id, version, frame };
    drawing.status = { key: "draw.trained_on", vars: { count: result.rows } };
    changeConfig({ dataset: result.id, loss: null }); // the loss follows the set (the engine decides)
  } catch (error) {
    drawing.status = { failure: error };
  }
  markDirty(DIRTY.dataset);
}

/** The plane point under a pointer event, in the drawn set's coordinates (null outside the plane). */
function planePoint(event) {
  const bounds = plane.getBoundingClientRect();
  const box = planeBox();
  const u = (event.clientX - bounds.left - box.x) / box.width;
  const v = 1 - (event.clientY - bounds.top - box.y) / box.height;
  if (u < 0 || u > 1 || v < 0 || v > 1) return null;
  const [x1Min, x1Max, x2Min, x2Max] = drawing.view;
  return { x1: x1Min + u * (x1Max - x1Min), x2: x2Min + v * (x2Max - x2Min), u, v };
}

function eraseNear(event) {
  const bounds = plane.getBoundingClientRect();
  const box = planeBox();
  const [x1Min, x1Max, x2Min, x2Max] = drawing.view;
  let best = -1;
  let bestDistance = ERASE_RADIUS_PX ** 2;
  drawing.points.forEach(([x1, x2], index) => {
    const x = box.x + ((x1 - x1Min) / (x1Max - x1Min)) * box.width;
    const y = box.y + (1 - (x2 - x2Min) / (x2Max - x2Min)) * box.height;
    const distance = (x - (event.clientX - bounds.left)) ** 2 + (y - (event.clientY - bounds.top)) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  });
  if (best < 0) return false;
  drawing.points.splice(best, 1);
  return true;
}

function onPlaneClick(event) {
  if (!drawing.on) return;
  event.stopImmediatePropagation(); // a click draws: it does not choose a sample for teaching mode
  if (event.shiftKey || drawing.erasing) {
    if (eraseNear(event)) edited();
    return;
  }
  const point = planePoint(event);
  if (!point) return;
  let target = drawing.chosenClass;
  if (drawing.regression) {
    target = parseLocalNumber(valueInput.value);
    if (!Number.isFinite(target)) {
      valueInput.setAttribute("aria-invalid", "true");
      return;
    }
    valueInput.removeAttribute("aria-invalid");
  }
  drawing.points.push([point.x1, point.x2, target]);
  edited();
}

function setDrawing(on) {
  drawing.on = on;
  if (on) {
    seedFromDataset();
    drawing.view = planeExtent(); // the shown points are the drawn set's start, in the plane's frame
    drawing.frame = drawing.view;
    drawing.shown = drawing.version;
    drawing.status = null;
    drawing.chosenClass = 0;
  }
  markDirty(DIRTY.dataset);
}

/** The drawn points not on screen yet, ringed dashed. */
function renderOverlay() {
  beginDraw(overlayContext, overlayWidth, overlayHeight);
  if (!drawing.on || drawing.shown === drawing.version || overlayWidth === 0) return;
  const box = planeBox();
  const [x1Min, x1Max, x2Min, x2Max] = drawing.view;
  const colours = classColours(drawnClasses());
  const range = Math.max(1e-9, ...drawing.points.map((p) => Math.abs(p[2])));
  overlayContext.fillStyle = "rgba(255, 255, 255, 0.55)"; // the set on screen fades under the new one
  overlayContext.fillRect(box.x, box.y, box.width, box.height);
  overlayContext.setLineDash([2, 2]);
  overlayContext.strokeStyle = "#111";
  for (const [x1, x2, target] of drawing.points) {
    const x = box.x + ((x1 - x1Min) / (x1Max - x1Min)) * box.width;
    const y = box.y + (1 - (x2 - x2Min) / (x2Max - x2Min)) * box.height;
    overlayContext.beginPath();
    overlayContext.arc(x, y, 5, 0, Math.PI * 2);
    overlayContext.fillStyle = drawing.regression ? divergingCss(target, range) : rgb(colours[target]);
    overlayContext.fill();
    overlayContext.stroke();
  }
  overlayContext.setLineDash([]);
}

function renderTools() {
  noticeShownSet();
  renderOverlay();
  toggle.setAttribute("aria-pressed", String(drawing.on));
  tools.hidden = !drawing.on;
  plane.classList.toggle("drawing", drawing.on);
  plane.classList.toggle("erasing", drawing.on && drawing.erasing);
  if (!drawing.on) return;
  valueField.hidden = !drawing.regression;
  classButtons.hidden = drawing.regression;
  eraseButton.setAttribute("aria-pressed", String(drawing.erasing));
  const classes = Math.min(MAX_DRAWN_CLASSES, drawnClasses() + 1);
  const drawn = drawnClasses();
  classButtons.replaceChildren();
  for (let k = 0; k < classes; k++) {
    const button = el("button", "chip draw-class");
    button.type = "button";
    button.dataset.class = String(k);
    button.setAttribute("role", "radio");
    button.setAttribute("aria-checked", String(k === drawing.chosenClass));
    const swatch = el("span", "swatch");
    swatch.style.background = rgb(classColours(k < drawn ? drawn : k + 1)[k]); // as the plane will show it
    button.append(swatch, el("span", "", t("draw.class", { k })));
    classButtons.append(button);
  }
  const shown = drawing.status;
  if (!shown) setText(status, t("draw.hint"));
  else if (shown.failure) setText(status, explain(shown.failure));
  else setText(status, t(shown.key, shown.vars));
}

export function initDrawPoints() {
  watchSize(plane, (w, h) => {
    overlayWidth = w;
    overlayHeight = h;
    fitCanvas(overlay, w, h);
    markDirty(DIRTY.layout);
  });
  holdFrame(() => {
    if (!drawing.on) return null;
    noticeShownSet(); // the set on screen now: its extent's place in the held frame
    return { view: drawing.view, data: drawing.frame };
  });
  toggle.addEventListener("click", () => setDrawing(!drawing.on));
  plane.addEventListener("click", onPlaneClick, { capture: true });
  classButtons.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-class]");
    if (!button) return;
    drawing.chosenClass = Number(button.dataset.class);
    drawing.erasing = false;
    markDirty(DIRTY.dataset);
  });
  eraseButton.addEventListener("click", () => {
    drawing.erasing = !drawing.erasing;
    markDirty(DIRTY.dataset);
  });
  clearButton.addEventListener("click", () => {
    drawing.points = [];
    edited();
  });
  registerRenderer({ name: "draw-tools", mask: DIRTY.dataset | DIRTY.lang | DIRTY.network | DIRTY.layout, render: renderTools });
}
