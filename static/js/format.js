// Number formatting for everything the page draws.
//
// Two kinds of text: numbers a test or a script reads back (`step-counter`, `train-loss`,
// `test-loss`, data-value attributes) are written in plain machine form ("0.6931", "1.2e-5"),
// whatever the language; numbers meant for reading (inspector, narration, tooltips) use the
// true minus sign and few significant digits, so a projector shows "−0.0123" not
// "-0.012345678901234".

const MINUS = "\u2212";

/** Machine-readable: 4 decimals for ordinary values, exponent form for tiny or huge ones. */
export function plainNumber(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(3);
  return value.toFixed(4);
}

/** Human-readable with `digits` significant digits and a typographic minus sign. */
export function shortNumber(value, digits = 3) {
  if (value === null || value === undefined) return "–";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : value < 0 ? MINUS + "∞" : "NaN";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  let text;
  if (magnitude < 1e-3 || magnitude >= 1e5) {
    text = value.toExponential(Math.max(0, digits - 1)).replace("e+", "e");
  } else {
    text = String(Number(value.toPrecision(digits)));
  }
  return text.replace("-", MINUS);
}

/** A number in parentheses when negative, as in "(−0.5)·(0.3)", so products read clearly. */
export function factor(value, digits = 3) {
  const text = shortNumber(value, digits);
  return value < 0 ? `(${text})` : text;
}

/** Integers with the language's grouping: 2,000,000 (en) or 2.000.000 (id). */
export function groupedInteger(value, lang) {
  return new Intl.NumberFormat(lang === "id" ? "id-ID" : "en-GB", { maximumFractionDigits: 0 }).format(value);
}

/** Percent with no decimals: 0.875 → "87.5 %" (one decimal when not whole). */
export function percent(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const pct = value * 100;
  return (Number.isInteger(Math.round(pct * 10) / 10) ? pct.toFixed(0) : pct.toFixed(1)) + " %";
}

/** Seconds as "12.3 ms" or "1.24 s". */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return "–";
  if (seconds < 1e-3) return (seconds * 1e6).toFixed(0) + " µs";
  if (seconds < 1) return (seconds * 1e3).toPrecision(3) + " ms";
  return seconds.toPrecision(3) + " s";
}

/** Unicode subscript digits for equation indices: 12 → "₁₂". */
const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";
export function subscript(n) {
  return String(n).replace(/\d/g, (d) => SUBSCRIPTS[Number(d)]);
}
