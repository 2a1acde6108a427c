// PNG pictures of the network and output views: their stacked canvases (edges, neurons and
// overlay; the boundary image and its points) drawn in order onto one white canvas, at least
// EXPORT_SCALE times the view's on-screen size (a slide or a projector shows it larger than a
// laptop's panel), with a caption under the picture saying what it shows: the view, the data
// set, the step and the training loss, in the reader's language. The file is named the same way.

import { saveBlob } from "./dom.js";
import { groupedInteger, plainNumber } from "./format.js";
import { has, t } from "./i18n.js";
import { pushError, store } from "./store.js";

const EXPORT_SCALE = 2; // output pixels per CSS pixel, at least (more on a HiDPI screen)
const CAPTION_FONT_PX = 13; // CSS pixels, scaled with the picture
const CAPTION_PADDING_PX = 8;

function datasetName() {
  const name = store.config?.dataset ?? "";
  if (store.dataset?.title) return store.dataset.title; // an uploaded table's file name, as text
  return has(`dataset.${name}`) ? t(`dataset.${name}`) : name;
}

/** "Output · circle · step 480 · training loss 0.1234" in the reader's language. */
export function caption(viewKey) {
  return t("export.caption", {
    view: t(viewKey),
    dataset: datasetName(),
    step: groupedInteger(store.step ?? 0),
    loss: plainNumber(store.metrics?.train_loss),
  });
}

/** The caption's lines: its " · " parts, as many on a line as fit in `width`. */
function captionLines(context, text, width) {
  const lines = [];
  for (const part of text.split(" · ")) {
    const last = lines.length - 1;
    if (last >= 0 && context.measureText(`${lines[last]} · ${part}`).width <= width) lines[last] += ` · ${part}`;
    else lines.push(part);
  }
  return lines;
}

function picture(container, text) {
  const layers = [...container.querySelectorAll("canvas")].filter((canvas) => canvas.width && canvas.height);
  const origin = container.getBoundingClientRect();
  if (!layers.length || !origin.width || !origin.height) return null;
  const scale = Math.max(EXPORT_SCALE, window.devicePixelRatio || 1);
  const out = document.createElement("canvas");
  const font = `${CAPTION_FONT_PX * scale}px system-ui, sans-serif`;
  const padding = CAPTION_PADDING_PX * scale;
  const lineHeight = CAPTION_FONT_PX * 1.35 * scale;
  out.width = Math.round(origin.width * scale);
  let context = out.getContext("2d");
  context.font = font;
  const lines = captionLines(context, text, out.width - 2 * padding);
  out.height = Math.round(origin.height * scale + lines.length * lineHeight + 2 * padding);
  context = out.getContext("2d"); // a resized canvas forgets its state
  context.fillStyle = "#fff";
  context.fillRect(0, 0, out.width, out.height);
  context.imageSmoothingQuality = "high";
  for (const canvas of layers) {
    const box = canvas.getBoundingClientRect();
    context.drawImage(canvas, (box.left - origin.left) * scale, (box.top - origin.top) * scale, box.width * scale,
      box.height * scale);
  }
  context.fillStyle = "#1d232a";
  context.font = font;
  context.textBaseline = "middle";
  lines.forEach((line, k) => context.fillText(line, padding, origin.height * scale + padding + (k + 0.5) * lineHeight));
  return out;
}

/** "backprop-lab-output-circle-step-480.png": what the picture shows, safe on every file system. */
function fileName(view) {
  const stem = `backprop-lab-${view}-${store.config?.dataset ?? "data"}-step-${store.step ?? 0}`;
  return `${stem.normalize("NFKD").replace(/[^A-Za-z0-9_]+/g, "-").replace(/^-+|-+$/g, "")}.png`;
}

function exportView(containerId, view, viewKey) {
  const canvas = picture(document.getElementById(containerId), caption(viewKey));
  if (!canvas) return;
  canvas.toBlob((blob) => {
    if (blob) saveBlob(blob, "image/png", fileName(view));
    else pushError({ key: "error.png" });
  }, "image/png");
}

export function initPngExport() {
  document.getElementById("png-network").addEventListener("click", () => exportView("network-view", "network", "export.view_network"));
  document.getElementById("png-output").addEventListener("click", () => exportView("decision-boundary", "output", "export.view_output"));
}
