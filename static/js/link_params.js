// What a lesson link (docs/lessons.md, "Lesson links") adds to the page's URL beyond the config,
// the language and projector mode: `hide=` names the panels the link hides, `pace=` the training
// pace in steps per second (0 = "max"). This module owns the panel names and applies them: a
// hidden panel is `hidden` (not folded), so nothing in it can be focused, and a shortcut that
// works a hidden panel (→, the teaching mode's next phase) does nothing.

import { t } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { acceptable } from "./options.js";
import { DIRTY, markDirty } from "./store.js";

/** The URL keys, written once (url_state.js reads and writes them, the builder builds them). */
export const LINK_KEYS = { hide: "hide", pace: "pace" };

/** Each panel a link can hide: its name in the URL → the id of its element in templates/index.html
 * and the translation key of its title, in the order the page shows them (and the builder lists
 * them). */
export const PANELS = {
  data: { id: "data-panel", title: "data.title" },
  hyperparameters: { id: "hyper-form", title: "hyper.label" },
  network: { id: "network-panel", title: "network.title" },
  output: { id: "output-panel", title: "output.title" },
  loss_chart: { id: "chart-panel", title: "chart.title" },
  teaching: { id: "teaching-panel", title: "teach.title" },
  inspector: { id: "neuron-inspector", title: "inspect.title" },
  gradient_check: { id: "gradcheck-panel", title: "gradcheck.title" },
  saved_runs: { id: "runs-panel", title: "runs.title" },
  loss_surface: { id: "loss-surface-view", title: "surface.title" },
  lr_lab: { id: "lr-lab", title: "lrlab.title" },
};

/** Controls outside a panel that only work it: hidden with it. */
const COMPANIONS = { teaching: ["phase-step-button"] };

const hidden = new Set(); // the link's hidden panels (the URL keeps them)
let revealed = null; // the one of them a lesson step highlights: shown while that step is open

/** {panels: known names (in PANELS' order), unknown: the other names} of a `hide=` value. */
export function parseHide(raw) {
  const names = raw.split(",").map((name) => name.trim()).filter((name) => name !== "");
  return {
    panels: Object.keys(PANELS).filter((name) => names.includes(name)),
    unknown: names.filter((name) => !(name in PANELS)),
  };
}

/** The steps per second of a `pace=` value ("max" is 0), undefined when it is not a number;
 * whether the server accepts it is checked once the options are in (`paceAccepted`). */
export function parsePace(raw) {
  if (raw === "max") return 0;
  const value = Number(raw);
  return raw.trim() !== "" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function paceAccepted(pace) {
  return acceptable("steps_per_second", pace);
}

/** Hides `hidden` but `revealed`, and shows every other panel. */
function apply() {
  for (const [name, { id }] of Object.entries(PANELS)) {
    const off = panelHidden(name);
    for (const elementId of [id, ...(COMPANIONS[name] ?? [])]) {
      const element = document.getElementById(elementId);
      if (element) element.hidden = off;
    }
  }
  // the grids of app.css close the gap a hidden panel leaves
  for (const name of Object.keys(PANELS)) document.body.classList.toggle(`hide-${name}`, panelHidden(name));
}

/** Hides exactly the panels named in `names` (and shows every other one). */
export function hidePanels(names) {
  hidden.clear();
  for (const name of Object.keys(PANELS)) if (names.includes(name)) hidden.add(name);
  apply();
}

/** A lesson step talks about the element `elementId` (its highlight): the panel holding it shows
 * for that step even if the link hid it, so the step's text and task still make sense; the
 * panel the previous step revealed hides again. */
export function revealForStep(elementId) { // null: no step
  const target = document.getElementById(elementId);
  revealed = Object.keys(PANELS).find((name) => document.getElementById(PANELS[name].id)?.contains(target)) ?? null;
  apply();
}

/** Whether panel `name` is hidden now. */
export function panelHidden(name) {
  return hidden.has(name) && name !== revealed;
}

/** The panels the link hides, in PANELS' order (for the URL, the builder's start). */
export function hiddenPanels() {
  return Object.keys(PANELS).filter((name) => hidden.has(name));
}

const ignored = [];

/** Says, on the page, which of the link's parameters were ignored (a bad link still opens). */
export function noteIgnored(items) {
  ignored.push(...items);
  markDirty(DIRTY.lang);
}

export function initLinkNote() {
  const note = document.getElementById("link-note");
  const text = document.getElementById("link-note-text");
  document.getElementById("link-note-dismiss").addEventListener("click", () => {
    ignored.length = 0;
    note.hidden = true;
  });
  registerRenderer({
    name: "link-note",
    mask: DIRTY.lang,
    render() {
      note.hidden = ignored.length === 0;
      if (!ignored.length) return;
      const words = t("link.ignored", { items: ignored.join(" · ") });
      if (text.textContent !== words) text.textContent = words; // text, never markup (the URL's)
    },
  });
}
