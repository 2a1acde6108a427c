// Translations: English and Bahasa Indonesia, switchable without a reload.
//
// Static text in the template carries `data-i18n="key"` (text content) and
// `data-i18n-attr="attr:key;attr:key"` (attributes); help marks carry `data-help-key`. Renderers
// that build text themselves call `t(key, vars)` and redraw when the store's `lang` flag is dirty.
// Terms follow docs/glossary.md, the words of the source article.

// format.js imports this module too: each uses the other only inside functions, after both loaded
import { readableNumber } from "./format.js";

export const LANGUAGES = ["en", "id"];
/** Each language's own name, as the language menu writes it (not translated). */
export const LANGUAGE_NAMES = { en: "English", id: "Bahasa Indonesia" };
const STORAGE_KEY = "backprop-lab.lang";

const dictionaries = {}; // lang -> {key: text}
const loading = {}; // lang -> Promise of its dictionary, so two callers fetch it once
let current = "en";

export function currentLanguage() {
  return current;
}

/** The text for `key` in the current language, with `{name}` placeholders filled from `vars`.
 * A var may be a function: it is called now, so a message kept in the store (an error toast)
 * words its parts in the language it is drawn in. A var that is a number is written in the
 * reader's form (`readableNumber`: "599.564" and "0,03" in Indonesian), so no caller can put an
 * ungrouped step or a decimal point into an Indonesian sentence; callers that format a number
 * themselves pass the string. */
export function t(key, vars) {
  let text = dictionaries[current]?.[key] ?? dictionaries.en?.[key] ?? key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) => {
      if (!(name in vars)) return whole;
      let value = vars[name];
      if (typeof value === "function") value = value();
      return typeof value === "number" && Number.isFinite(value) ? readableNumber(value, current) : String(value);
    });
  }
  return text;
}

/** True when `key` has a translation (used for optional labels such as dataset names). */
export function has(key) {
  return key in (dictionaries[current] ?? {}) || key in (dictionaries.en ?? {});
}

/** The translations of `lang` could not be loaded; the page says so in the language it is in. */
export class TranslationsError extends Error {
  constructor(lang, message) {
    super(message);
    this.lang = lang;
  }
}

function fetchDictionary(lang) {
  loading[lang] ??= fetch(`/static/i18n/${lang}.json`)
    .then((response) => {
      if (!response.ok) throw new TranslationsError(lang, `could not load the ${lang} translations (HTTP ${response.status})`);
      return response.json();
    })
    .then((dictionary) => {
      dictionaries[lang] = dictionary;
    })
    .catch((error) => {
      delete loading[lang]; // let a later switch try again
      throw error instanceof TranslationsError ? error : new TranslationsError(lang, String(error?.message ?? error));
    });
  return loading[lang];
}

let latestRequest = 0; // only the language asked for last is applied

/** Loads `lang` (and English as the fallback), makes it current and remembers it. Resolves to
 * false, changing nothing, when another language was asked for while this one loaded: two
 * quick switches end in the second, whichever dictionary arrives first. */
export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) lang = "en";
  const request = ++latestRequest;
  await Promise.all([fetchDictionary("en"), fetchDictionary(lang)]);
  if (request !== latestRequest) return false;
  current = lang;
  document.documentElement.lang = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // private mode: the URL still carries the choice
  }
  applyTranslations(document);
  return true;
}

/** The language to start in: the URL's, then the remembered one, then the browser's. */
export function initialLanguage(fromUrl) {
  if (LANGUAGES.includes(fromUrl)) return fromUrl;
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch {
    // storage unavailable
  }
  return (navigator.language || "").toLowerCase().startsWith("id") ? "id" : "en";
}

/** The language a page of its own (the join form, the preparing page) starts in: `#lang=` of its
 * address, else as `initialLanguage` decides. */
export function addressLanguage() {
  return initialLanguage(new URLSearchParams(window.location.hash.slice(1)).get("lang"));
}

/** Rewrites every marked element under `root` in the current language. */
export function applyTranslations(root) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of element.dataset.i18nAttr.split(";")) {
      const [attribute, key] = pair.split(":");
      if (attribute && key) element.setAttribute(attribute.trim(), t(key.trim()));
    }
  }
  const hidden = document.getElementById("help-texts");
  for (const element of root.querySelectorAll("[data-help-key]")) {
    const key = element.dataset.helpKey;
    const text = t(key);
    element.dataset.help = text;
    element.setAttribute("aria-label", `${t("help.label")}: ${text}`);
    // the hidden twin that the control's aria-describedby points at
    const id = "help-" + key.replace(/^help\./, "").replace(/_/g, "-");
    let twin = document.getElementById(id);
    if (!twin && hidden) {
      twin = document.createElement("span");
      twin.id = id;
      hidden.append(twin);
    }
    if (twin) twin.textContent = text;
  }
}
