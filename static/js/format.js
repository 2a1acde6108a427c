// Number formatting for everything the page draws, in the reader's language (docs/product.md,
// "Languages"): English writes 0.03 and 1,234; Indonesian 0,03 and 1.234 (Intl.NumberFormat for
// "en-GB" and "id-ID"). Numbers meant for reading (inspector, narration, tooltips) use the true
// minus sign and few significant digits, so a projector shows "−0,0123" not
// "-0.012345678901234". Tests and scripts read full-precision numbers from `data-value`
// attributes, which stay in machine form ("0.6931") whatever the language.

import { currentLanguage, t } from "./i18n.js";

const MINUS = "\u2212";
const LOCALES = { en: "en-GB", id: "id-ID" };
const formats = new Map(); // "lang|options" -> Intl.NumberFormat: building one costs ~20 µs, using one ~1 µs

/** The cached Intl.NumberFormat of `lang` for `options` (a handful of distinct ones in all). */
function formatter(lang, options) {
  let key = lang;
  for (const name in options) key += `|${name}=${options[name]}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(LOCALES[lang] ?? LOCALES.en, options);
    formats.set(key, format);
  }
  return format;
}

function language(lang) {
  return lang ?? currentLanguage();
}

/** The decimal separator of `lang` (the current language by default): "." or ",". */
export function decimalSeparator(lang) {
  return language(lang) === "id" ? "," : ".";
}

/** What separates the numbers of a list: ", " in English, "; " in Indonesian (where "," is the
 * decimal separator, so "[0,5, 0,25]" could not be read). */
export function listSeparator(lang) {
  return language(lang) === "id" ? "; " : ", ";
}

/** An exponent form "1.23e-5" in `lang` ("1,23e−5" in Indonesian), mantissa with `decimals`. */
function exponential(value, decimals, lang) {
  const [mantissa, exponent] = value.toExponential(decimals).split("e");
  const shown = formatter(lang, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(Number(mantissa));
  return `${shown}e${exponent.replace("+", "")}`;
}

/** The metrics' form: 4 decimals for ordinary values, exponent form for tiny or huge ones. */
export function plainNumber(value, lang) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  lang = language(lang);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return exponential(value, 3, lang);
  return formatter(lang, { minimumFractionDigits: 4, maximumFractionDigits: 4, useGrouping: false }).format(value);
}

/** Human-readable with `digits` significant digits and a typographic minus sign. */
export function shortNumber(value, digits = 3, lang) {
  if (value === null || value === undefined) return "–";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : value < 0 ? MINUS + "∞" : "NaN";
  if (value === 0) return "0";
  lang = language(lang);
  const magnitude = Math.abs(value);
  let text;
  if (magnitude < 1e-3 || magnitude >= 1e5) {
    text = exponential(value, Math.max(0, digits - 1), lang).replace(/(\.|,)?0+e/, "e");
  } else if (magnitude < 1000) {
    // no grouping below 1000: JavaScript's own rounding, the language's separator (3× faster
    // than Intl, and the inspector and the flow's labels write hundreds a frame)
    text = String(Number(value.toPrecision(digits)));
    if (lang === "id") text = text.replace(".", ",");
  } else {
    text = formatter(lang, { maximumSignificantDigits: digits }).format(value);
  }
  return text.replace(/-/g, MINUS);
}

/** A plain decimal for reading at a distance, never in exponent form: `digits` significant
 * digits with at most 5 decimals ("0,0042", "−1,35"), whole from 1000 ("12.345"), and "≈ 0"
 * for what rounds to nothing there. The numbers on the network's edges use it: "4,2e−5" means
 * nothing to a class looking at a projector. */
export function plainDecimal(value, digits = 3, lang) {
  if (value === null || value === undefined) return "–";
  if (!Number.isFinite(value)) return shortNumber(value, digits, lang);
  const options = Math.abs(value) >= 1000
    ? { maximumFractionDigits: 0 } // whole, grouped: "123.456", never a rounded "123.000"
    : { maximumSignificantDigits: digits, maximumFractionDigits: 5, roundingPriority: "lessPrecision" };
  const text = formatter(language(lang), options).format(value);
  if (/^-?0$/.test(text)) return value === 0 ? "0" : "≈ 0";
  return text.replace(/-/g, MINUS);
}

/** A number in parentheses when negative, as in "(−0.5)·(0.3)", so products read clearly. */
export function factor(value, digits = 3, lang) {
  const text = shortNumber(value, digits, lang);
  return value < 0 ? `(${text})` : text;
}

/** Integers with the language's grouping: 2,000,000 (en) or 2.000.000 (id). */
export function groupedInteger(value, lang) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return formatter(language(lang), { maximumFractionDigits: 0 }).format(value);
}

/** Percent with no decimals when whole, else one: 0.875 → "87.5 %" ("87,5 %" in Indonesian). */
export function percent(value, lang) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const pct = Math.round(value * 1000) / 10;
  return formatter(language(lang), { maximumFractionDigits: 1, useGrouping: false }).format(pct) + " %";
}

/** Seconds as "12.3 ms" or "1.24 s" ("12,3 ms" in Indonesian). */
export function duration(seconds, lang) {
  if (!Number.isFinite(seconds)) return "–";
  const three = formatter(language(lang), { maximumSignificantDigits: 3 });
  if (seconds < 1e-3) return formatter(language(lang), { maximumFractionDigits: 0 }).format(seconds * 1e6) + " µs";
  if (seconds < 1) return three.format(seconds * 1e3) + " ms";
  return three.format(seconds) + " s";
}

/** A number in the reader's language (0.999 in English, 0,999 in Indonesian), up to 6 decimals,
 * without grouping: what a number field shows and accepts back (`parseLocalNumber`). */
export function localNumber(value, lang) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && magnitude < 1e-6) return exponential(value, 3, language(lang)).replace(/(\.|,)?0+e/, "e");
  return formatter(language(lang), { maximumFractionDigits: 6, useGrouping: false }).format(value);
}

/** Exactly `decimals` decimals, no grouping: a sum of probabilities as "1.000000" ("1,000000"). */
export function fixedNumber(value, decimals, lang) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return formatter(language(lang), { minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: false }).format(value);
}

/** Every digit JavaScript keeps (String(value)), with the language's decimal separator: the
 * inspector's exact value in a tooltip or its edit field ("0,123456789012" in Indonesian). */
export function fullNumber(value, lang) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const text = String(value);
  return decimalSeparator(lang) === "," ? text.replace(".", ",") : text;
}

/** A number in a sentence: whole numbers from 1000 up grouped ("1.024 neuron"), others as
 * `localNumber` ("0,03", "1e-7"). */
export function readableNumber(value, lang) {
  if (Number.isInteger(value) && Math.abs(value) >= 1000) return groupedInteger(value, lang);
  return localNumber(value, lang);
}

/**
 * The number a person typed, or NaN. Both "0.03" and "0,03" are accepted in Indonesian (a comma
 * is the decimal separator there, and a point that is not followed by exactly three digits can
 * only be one too); points that group thousands ("1.000,5") are dropped. In English a comma may
 * only group thousands ("1,000.5"). An exponent ("1e-4", "1,5e−3") and the true minus sign work too.
 */
export function parseLocalNumber(text, lang) {
  let s = String(text ?? "").trim().replace(/[\u2212\u2013]/g, "-").replace(/\s/g, "");
  if (s === "") return NaN;
  if (language(lang) === "id") {
    if (s.includes(",")) s = s.replace(/\.(?=\d{3}(\D|$))/g, "").replace(",", ".");
    else if (/^-?\d{1,3}(\.\d{3})+$/.test(s) && !/^-?0\./.test(s)) s = s.replace(/\./g, ""); // 1.000.000
  } else if (s.includes(",")) {
    if (!/^-?\d{1,3}(,\d{3})+(\.\d*)?([eE][-+]?\d+)?$/.test(s)) return NaN;
    s = s.replace(/,/g, "");
  }
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return NaN;
  return Number(s);
}

/** Words inside the engine's formulas (the momentum rule's "first step"), by translation key. */
const FORMULA_WORDS = [["first step", "formula.first_step"]];

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
 * (`{j: 2}`: "ŷ₂ − y₂"). Anything without a subscript form stays as written. It follows the
 * reader's language: decimals ("0.01·z" is "0,01·z" in Indonesian, where a comma between
 * arguments becomes a semicolon: "U(−0,5; 0,5)") and the few words the formulas hold.
 */
export function mathText(text, indices = {}) {
  if (typeof text !== "string") return "";
  let local = text;
  for (const [words, key] of FORMULA_WORDS) local = local.replaceAll(words, t(key));
  if (decimalSeparator() === ",") local = local.replace(/, /g, "; ").replace(/(\d)\.(\d)/g, "$1,$2");
  return local.replace(/_([a-z0-9]+)/g, (whole, index) => {
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

/** A saved run's time (ISO 8601, UTC) in the reader's language and time zone: "1 Dec 2026, 11:20". */
export function localDateTime(iso, lang) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "–";
  return new Intl.DateTimeFormat(lang === "id" ? "id-ID" : "en-GB", { dateStyle: "medium", timeStyle: "short" }).format(date);
}
