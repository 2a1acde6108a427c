// The whole config (and the language) in the URL hash, so a copied link reproduces the setup:
//   #dataset=spiral&hidden_layers=8,8,4&activation=relu&learning_rate=0.01&…&lang=id
// `projector=1` keeps projector mode on; a lesson link (docs/lessons.md, "Lesson links") adds
// `hide=` (panels) and `pace=` (steps per second). Reading also accepts the same keys in the query
// string. A key or value the page cannot read is ignored and listed in `ignored` (the page says so);
// values are parsed by type here and validated by the server (a bad link gets a readable 422, then
// defaults).

import { LINK_KEYS, parseHide, parsePace } from "./link_params.js";

const NUMBER_FIELDS = new Set([
  "samples", "noise", "train_ratio", "seed", "learning_rate", "momentum", "batch_size", "regularization_rate",
]);
const LIST_FIELDS = { features: "string", hidden_layers: "number" };
const STRING_FIELDS = new Set(["dataset", "activation", "loss", "optimizer", "regularization", "init"]);

/** Config field order in the URL (the order of docs/api.md). */
export const CONFIG_FIELDS = [
  "dataset", "samples", "noise", "train_ratio", "seed", "features", "hidden_layers", "activation", "loss",
  "optimizer", "learning_rate", "momentum", "batch_size", "regularization", "regularization_rate", "init",
];

function parseValue(key, raw) {
  if (NUMBER_FIELDS.has(key)) {
    const value = Number(raw);
    return raw.trim() !== "" && Number.isFinite(value) ? value : undefined;
  }
  if (key in LIST_FIELDS) {
    const parts = raw.split(",").map((part) => part.trim()).filter((part) => part !== "");
    if (LIST_FIELDS[key] === "number") {
      const numbers = parts.map(Number);
      return numbers.every(Number.isInteger) ? numbers : undefined;
    }
    return parts;
  }
  if (STRING_FIELDS.has(key)) return raw || undefined;
  return undefined;
}

/** Keys of the query that belong to the server's pages, not to the setup (main.js, lessons). */
const PAGE_KEYS = new Set(["session"]);
const LANGUAGES = new Set(["en", "id"]);

/** {config: partial config, lang, projector: bool, hide: [panel names], pace: steps/s or
 * undefined, ignored: ["key=value", …]} from the current URL. */
export function readUrl(location = window.location) {
  const config = {};
  let lang;
  let projector = false;
  let hide = [];
  let pace;
  const ignored = [];
  for (const source of [location.search.slice(1), location.hash.slice(1)]) {
    const params = new URLSearchParams(source);
    for (const [key, raw] of params) {
      const bad = () => ignored.push(raw === "" ? key : `${key}=${raw}`);
      if (key === "lang") {
        if (LANGUAGES.has(raw)) lang = raw;
        else bad();
      } else if (key === "projector") {
        projector = raw === "1";
      } else if (key === LINK_KEYS.hide) {
        const parsed = parseHide(raw);
        hide = parsed.panels;
        if (parsed.unknown.length) ignored.push(`${key}=${parsed.unknown.join(",")}`);
      } else if (key === LINK_KEYS.pace) {
        pace = parsePace(raw);
        if (pace === undefined) bad();
      } else if (CONFIG_FIELDS.includes(key)) {
        const value = parseValue(key, raw);
        if (value !== undefined) config[key] = value;
        else bad();
      } else if (!PAGE_KEYS.has(key)) {
        bad();
      }
    }
  }
  return { config, lang, projector, hide, pace, ignored };
}

/** The hash for `config`, `lang`, projector mode and the hidden panels, every field written so
 * the link survives changed defaults. */
export function hashFor(config, lang, projector = false, hide = [], pace = undefined) {
  const params = new URLSearchParams();
  for (const key of CONFIG_FIELDS) {
    if (!config || !(key in config) || config[key] === null || config[key] === undefined) continue;
    const value = config[key];
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  if (lang) params.set("lang", lang);
  if (projector) params.set("projector", "1");
  if (hide.length) params.set(LINK_KEYS.hide, hide.join(","));
  if (pace !== undefined) params.set(LINK_KEYS.pace, String(pace));
  // URLSearchParams encodes "," as %2C; commas are safe in a fragment and easier to read
  return "#" + params.toString().replace(/%2C/g, ",");
}

/** Replaces the URL's hash without adding a history entry (no reload, no scroll). */
export function writeUrl(config, lang, projector = false, hide = []) {
  const hash = hashFor(config, lang, projector, hide);
  if (hash !== window.location.hash) {
    history.replaceState(null, "", window.location.pathname + hash);
  }
}
