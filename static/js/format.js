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

/** Unicode subscripts for the letters the engine's formulas use as indices. */
const LETTER_SUBSCRIPTS = { a: "ₐ", e: "ₑ", h: "ₕ", i: "ᵢ", j: "ⱼ", k: "ₖ", l: "ₗ", m: "ₘ", n: "ₙ", o: "ₒ", p: "ₚ", r: "ᵣ", s: "ₛ", t: "ₜ", u: "ᵤ", v: "ᵥ", x: "ₓ" };

/**
 * The engine's formula text for reading: its plain `_j` index notation as subscripts
 * ("ŷ_j − y_j" → "ŷⱼ − yⱼ", "n_in" → "nᵢₙ"); an index given in `indices` becomes its number
 * (`{j: 2}`: "ŷ₂ − y₂"). Anything without a subscript form stays as written.
 */
export function mathText(text, indices = {}) {
  if (typeof text !== "string") return "";
  return text.replace(/_([a-z0-9]+)/g, (whole, index) => {
    let out = "";
    for (const character of index) {
      if (character in indices) {
        out += subscript(indices[character]);
        continue;
      }
      const sub = /\d/.test(character) ? SUBSCRIPTS[Number(character)] : LETTER_SUBSCRIPTS[character];
      if (!sub) return whole;
      out += sub;
    }
    return out;
  });
}

/** A number in the reader's language (0.999 in English, 0,999 in Indonesian), up to 6 decimals. */
export function localNumber(value, lang) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return new Intl.NumberFormat(lang === "id" ? "id-ID" : "en-GB", { maximumFractionDigits: 6, useGrouping: false }).format(value);
}

/** `shortNumber` in the reader's language: Indonesian writes a decimal comma (0,03). */
export function localShortNumber(value, lang, digits = 3) {
  const text = shortNumber(value, digits);
  return lang === "id" ? text.replace(".", ",") : text;
}

/** A saved run's time (ISO 8601, UTC) in the reader's language and time zone: "1 Dec 2026, 11:20". */
export function localDateTime(iso, lang) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "–";
  return new Intl.DateTimeFormat(lang === "id" ? "id-ID" : "en-GB", { dateStyle: "medium", timeStyle: "short" }).format(date);
}
