// The training pace this page asks for, in steps per second (0 = "max", as fast as the engine goes).
//
// A session starts at the protocol's default, 0; the page asks for a pace a class can watch instead:
// the one the user chose last (kept in this browser's localStorage, so it survives a reload, a
// reconnect and a server restart), else the options document's default (server/options.py). The
// page sends it after every hello (session.js), so a new session trains at the same pace as the old.

import { groupedInteger } from "./format.js";
import { t } from "./i18n.js";
import { acceptable, uiRange } from "./options.js";

const STORAGE_KEY = "backprop-lab.pace";

/** The pace the options document starts a page at (null before the options are loaded). */
function defaultPace() {
  const pace = uiRange("steps_per_second").default;
  return Number.isFinite(pace) ? pace : null;
}

/** The pace to ask for: the user's last choice if the server still accepts it, else the default. */
export function chosenPace() {
  let saved = null;
  try {
    saved = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage refused (private mode): the default pace
  }
  const value = saved === null || saved === "" ? NaN : Number(saved);
  if (acceptable("steps_per_second", value)) return value;
  return defaultPace() ?? 0;
}

/** The user picked `stepsPerSecond`: it is the pace from now on, in this browser. */
export function rememberPace(stepsPerSecond) {
  try {
    window.localStorage.setItem(STORAGE_KEY, String(stepsPerSecond));
  } catch {
    // storage refused: the pace holds until the page is closed
  }
}

/** "max", "1 step/s", "100 steps/s" in the reader's language and number format. */
export function speedLabel(stepsPerSecond) {
  if (stepsPerSecond === 0) return t("transport.speed_max");
  const key = stepsPerSecond === 1 ? "transport.speed_value_one" : "transport.speed_value";
  return t(key, { n: groupedInteger(stepsPerSecond) });
}
