// PNG pictures of the network and output views: their stacked canvases (edges, neurons and
// overlay; the boundary image and its points) drawn in order onto one white canvas, at the
// canvases' own resolution, and offered as a download.

import { saveBlob } from "./dom.js";
import { pushError } from "./store.js";

function picture(container) {
  const layers = [...container.querySelectorAll("canvas")].filter((canvas) => canvas.width && canvas.height);
  const origin = container.getBoundingClientRect();
  if (!layers.length || !origin.width || !origin.height) return null;
  const ratio = window.devicePixelRatio || 1;
  const out = document.createElement("canvas");
  out.width = Math.round(origin.width * ratio);
  out.height = Math.round(origin.height * ratio);
  const context = out.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, out.width, out.height);
  for (const canvas of layers) {
    const box = canvas.getBoundingClientRect();
    context.drawImage(canvas, (box.left - origin.left) * ratio, (box.top - origin.top) * ratio, box.width * ratio,
      box.height * ratio);
  }
  return out;
}

function exportView(containerId, fileName) {
  const canvas = picture(document.getElementById(containerId));
  if (!canvas) return;
  canvas.toBlob((blob) => {
    if (blob) saveBlob(blob, "image/png", fileName);
    else pushError({ key: "error.png" });
  }, "image/png");
}

export function initPngExport() {
  document.getElementById("png-network").addEventListener("click", () => exportView("network-view", "backprop-lab-network.png"));
  document.getElementById("png-output").addEventListener("click", () => exportView("decision-boundary", "backprop-lab-output.png"));
}
