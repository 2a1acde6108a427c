// A student's pictures on the class page: the thumbnail of their network's output (the server's
// base64 of n×n uint8 values, row 0 at the top: docs/api.md, "Classes") in the page's diverging
// palette, and a loss sparkline. Each is drawn only when its data changed: with 50 students and
// a class view four times a second, an unchanged picture costs one string comparison.

import { classColours, DIVERGING_LUT, POSITIVE_CSS } from "../palette.js";

/** The bytes of a thumbnail's base64 `values`. */
function decode(values) {
  const text = atob(values);
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return bytes;
}

/** 256 RGB triples: what each byte of a thumbnail shows. Two classes and regression: the diverging
 * palette (0 orange: class 0 or the lowest output; 255 blue: class 1 or the highest), as the
 * student's own boundary shows them; K classes: byte k is class k's colour. */
function lookup(thumbnail) {
  const classes = thumbnail.classes ?? 0;
  if (classes <= 2) return DIVERGING_LUT;
  const table = new Uint8Array(256 * 3);
  classColours(classes).forEach((colour, k) => table.set(colour, k * 3));
  return table;
}

/** A canvas that shows one thumbnail; `show(thumbnail)` redraws only when it differs. */
export class Thumbnail {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.drawn = null; // the `values` string drawn
    this.image = null;
  }

  show(thumbnail) {
    if (!thumbnail) {
      if (this.drawn !== "") this.clear();
      return false;
    }
    if (thumbnail.values === this.drawn) return false;
    const size = thumbnail.size;
    const bytes = decode(thumbnail.values);
    if (bytes.length !== size * size) return false; // not a thumbnail: keep the last one
    if (this.canvas.width !== size) {
      this.canvas.width = size;
      this.canvas.height = size;
      this.image = null;
    }
    this.image ??= this.context.createImageData(size, size); // reused: one per canvas, not per draw
    const pixels = this.image.data;
    const table = lookup(thumbnail);
    for (let index = 0; index < bytes.length; index++) {
      const colour = bytes[index] * 3;
      pixels[index * 4] = table[colour];
      pixels[index * 4 + 1] = table[colour + 1];
      pixels[index * 4 + 2] = table[colour + 2];
      pixels[index * 4 + 3] = 255;
    }
    this.context.putImageData(this.image, 0, 0);
    this.drawn = thumbnail.values;
    return true;
  }

  clear() {
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.drawn = "";
  }
}

/** A loss curve on a canvas of its own size, scaled to its own range (log when it spans more than
 * a decade, as a falling loss does); `show(losses)` redraws only when the values changed. */
export class Sparkline {
  constructor(canvas, lineWidth = 1.5) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.lineWidth = lineWidth;
    this.drawn = null;
  }

  show(losses, lineWidth = this.lineWidth) {
    const key = `${lineWidth}|${losses.join(",")}`;
    if (key === this.drawn) return false;
    this.drawn = key;
    const { width, height } = this.canvas;
    const context = this.context;
    context.clearRect(0, 0, width, height);
    const finite = losses.filter((value) => Number.isFinite(value));
    if (finite.length < 2) return true;
    const positive = finite.every((value) => value > 0);
    let low = Math.min(...finite);
    let high = Math.max(...finite);
    const log = positive && high / low > 10;
    const scale = (value) => (log ? Math.log10(value) : value);
    low = scale(low);
    high = scale(high);
    const span = high - low || 1;
    const pad = lineWidth;
    context.beginPath();
    losses.forEach((value, index) => {
      if (!Number.isFinite(value)) return;
      const x = pad + (index / (losses.length - 1)) * (width - 2 * pad);
      const y = pad + (1 - (scale(value) - low) / span) * (height - 2 * pad);
      if (index === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.strokeStyle = POSITIVE_CSS;
    context.lineWidth = lineWidth;
    context.lineJoin = "round";
    context.stroke();
    return true;
  }
}
