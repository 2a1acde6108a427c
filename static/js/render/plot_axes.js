// What the page's Plotly charts share about their axes: the reader's number separators and
// readable ticks on a log axis. Imports no view, so any page (the lab, the class page) can use it.

import { decimalSeparator, readableNumber } from "../format.js";
import { currentLanguage } from "../i18n.js";

const MAX_DECADE_TICKS = 8; // more decades than this: a tick every other decade

/** What every Plotly chart of the page (the loss chart, the loss surface, the learning-rate lab)
 * puts in its layout so its ticks, hover labels and d3-format numbers follow the reader's
 * language: `separators` is the decimal then the thousands separator, ",." in Indonesian (0,03
 * and 1.000), ".," in English. The one place it is decided. */
export function plotLocale() {
  return { separators: decimalSeparator() === "," ? ",." : ".," };
}

/**
 * Readable ticks for a log axis spanning log₁₀ `low` … `high`: every power of ten (0.001, 0.01,
 * 0.1, 1, 10, written out in the reader's language), with 2 and 5 between them when the axis
 * spans under three decades, every other power when it spans many. Plotly's own labels there read
 * "5, 2, 1, 5, 2, 0.1": mantissas a class cannot place.
 */
export function logTicks(low, high) {
  const first = Math.floor(low);
  const last = Math.ceil(high);
  const every = last - first > MAX_DECADE_TICKS ? 2 : 1;
  const mantissas = high - low < 3 ? [1, 2, 5] : [1];
  const tickvals = [];
  for (let decade = first; decade <= last; decade += every) {
    for (const mantissa of mantissas) {
      const value = mantissa * 10 ** decade;
      const exponent = Math.log10(value);
      if (exponent >= low - 1e-9 && exponent <= high + 1e-9) tickvals.push(Number(value.toPrecision(12)));
    }
  }
  return { tickmode: "array", tickvals, ticktext: tickvals.map((value) => readableNumber(value, currentLanguage())) };
}
