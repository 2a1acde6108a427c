// Canvas sizing: a canvas's backing store follows its CSS box times the device pixel ratio, so
// lines stay sharp on a projector or a HiDPI laptop. Resizing happens only when the box
// changes (a ResizeObserver sets the layout flag), never per frame.

/** Sizes `canvas` to `width`×`height` CSS pixels; returns true when the size changed. */
export function fitCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  const pixelWidth = Math.max(1, Math.round(width * ratio));
  const pixelHeight = Math.max(1, Math.round(height * ratio));
  if (canvas.width === pixelWidth && canvas.height === pixelHeight) return false;
  canvas.width = pixelWidth;
  canvas.height = pixelHeight;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  return true;
}

/** Resets the transform to CSS pixels and clears the canvas. */
export function beginDraw(context, width, height) {
  const ratio = window.devicePixelRatio || 1;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
}

/** Calls `onResize(width, height)` whenever `element`'s content box changes size. */
export function watchSize(element, onResize) {
  const observer = new ResizeObserver((entries) => {
    const box = entries[entries.length - 1].contentRect;
    onResize(Math.floor(box.width), Math.floor(box.height));
  });
  observer.observe(element);
  return observer;
}

/** The box labelBox would draw, as [left, top, right, bottom], without drawing it. */
export function labelRect(context, text, x, y, align = "left", fontPx = 11, padding = 3) {
  const width = context.measureText(text).width + padding * 2;
  const height = fontPx + padding * 2;
  const left = align === "left" ? x : align === "right" ? x - width : x - width / 2;
  return [left, y - height / 2, left + width, y + height / 2];
}

/** A rounded label box with text, for numbers drawn on the canvas; returns its rectangle. */
export function labelBox(context, text, x, y, { align = "left", background = "rgba(255,255,255,0.88)", colour = "#1d232a", padding = 3, fontPx = 11 } = {}) {
  const rect = labelRect(context, text, x, y, align, fontPx, padding);
  const [left, top] = rect;
  const width = rect[2] - rect[0];
  const height = rect[3] - rect[1];
  context.fillStyle = background;
  context.beginPath();
  context.roundRect(left, top, width, height, 3);
  context.fill();
  context.fillStyle = colour;
  context.fillText(text, left + padding, y + 0.5);
  return rect;
}

/** Puts a tooltip next to (x, y) inside a box of `width`×`height`, flipping to the other side of
 * the pointer where it would stick out. */
export function placeTooltip(tooltip, x, y, width, height) {
  const gap = 12;
  const left = x + gap + tooltip.offsetWidth > width ? x - gap - tooltip.offsetWidth : x + gap;
  const top = y + gap + tooltip.offsetHeight > height ? y - gap - tooltip.offsetHeight : y + gap;
  tooltip.style.left = `${Math.max(0, left)}px`;
  tooltip.style.top = `${Math.max(0, top)}px`;
}
