// The page's arrangement for the room it is shown in (docs/product.md, "Layout"): the network,
// the output with its boundary and the loss chart share the first screen from a 1024×768
// projector to a 1920×1080 screen. app.css places the panels; this module does what CSS
// cannot:
//   - the workspace fills the height left under the top bar (which wraps to one, two or three
//     rows with the width and the language), measured as it changes;
//   - the Data panel folds away where the height is short (narrow screens, projector mode) or a
//     lesson step's panel takes its column, its
//     heading still naming the data set, and unfolds with its button (a disclosure: Enter or Space, its state in aria-expanded); a
//     reader's own choice holds until the room changes (the width crosses the fold, or
//     projector mode is turned on or off);
//   - the inspector and the narration, below the first screen, come into view when a click
//     opens them (a neuron, an edge, a phase).

import { has, t } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { DIRTY, store } from "./store.js";

/** Where the Data panel starts folded: as app.css's one-column-less layout, or projector mode. */
const NARROW = window.matchMedia("(max-width: 1100px)");
// how much of each shows when it opens: the inspector's title and forward pass; the phase's
// heading and first sentences
const INSPECTOR_PEEK = 360;
const NARRATION_PEEK = 170;

const root = document.documentElement;
const workspace = document.querySelector(".workspace");
const dataToggle = document.getElementById("data-toggle");
const dataBody = document.getElementById("data-body");
const dataPanel = document.getElementById("data-panel");

function setFolded(folded) {
  dataToggle.setAttribute("aria-expanded", String(!folded));
  dataBody.hidden = folded;
  dataPanel.classList.toggle("folded", folded);
  workspace.classList.toggle("data-folded", folded);
}

/** The room's default: folded on a narrow screen, in projector mode, or beside a lesson step's
 * panel (which takes the Data panel's column). */
function foldForRoom() {
  setFolded(NARROW.matches || root.classList.contains("projector") || document.body.classList.contains("lesson-open"));
}

/** The workspace's top, as a CSS variable: its height is what the window has left under it. */
function measureTop() {
  const top = workspace.getBoundingClientRect().top + window.scrollY;
  root.style.setProperty("--workspace-top", `${Math.round(top)}px`);
}

/** True when part of `element` is in the window: the click that selected came from there. */
function inView(element) {
  const box = element.getBoundingClientRect();
  return box.bottom > 0 && box.top < window.innerHeight;
}

/** Scrolls the least that shows the first `peek` pixels of `element` (when fewer show now), so
 * as much of the network as can stays in sight above it. */
function reveal(element, peek) {
  const top = element.getBoundingClientRect().top;
  const wanted = window.innerHeight - Math.min(peek, window.innerHeight * 0.6);
  if (top <= wanted) return;
  const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  window.scrollBy({ top: top - wanted, behavior: smooth ? "smooth" : "auto" });
}

export function initLayout() {
  foldForRoom();
  dataToggle.addEventListener("click", () => setFolded(dataToggle.getAttribute("aria-expanded") === "true"));
  NARROW.addEventListener("change", foldForRoom);
  let projector = root.classList.contains("projector");
  new MutationObserver(() => {
    const now = root.classList.contains("projector");
    if (now !== projector) {
      projector = now;
      foldForRoom();
    }
  }).observe(root, { attributes: true, attributeFilter: ["class"] });

  // folded, the panel's heading names the data set ("Data · spiral")
  const summary = document.getElementById("data-summary");
  registerRenderer({
    name: "data-summary",
    mask: DIRTY.dataset | DIRTY.lang,
    render() {
      const name = store.dataset?.name ?? "";
      const text = store.dataset?.title ?? (has(`dataset.${name}`) ? t(`dataset.${name}`) : name);
      if (summary.textContent !== text) summary.textContent = text;
    },
  });

  // what sits above the workspace changes height with the width, the language, a banner
  const above = new ResizeObserver(measureTop);
  for (const selector of [".topbar", ".notices", "#share-panel", "#link-builder"]) {
    const element = document.querySelector(selector);
    if (element) above.observe(element);
  }
  measureTop();

  // a new selection opens the inspector, a new phase the narration: show them where they are
  const inspector = document.getElementById("neuron-inspector");
  const network = document.getElementById("network-view");
  const narration = document.getElementById("narration");
  let selection = null;
  let phase = null;
  registerRenderer({
    name: "reveal",
    mask: DIRTY.selection | DIRTY.teaching,
    render(flags) {
      // not while edges are being picked for the loss surface: the reader is working with the
      // network and the surface then, and a scroll would move the next edge under the pointer
      const opened = flags & DIRTY.selection && store.selection && store.selection !== selection;
      if (opened && !store.surface.picking && inView(network)) reveal(inspector, INSPECTOR_PEEK);
      selection = store.selection;
      const last = store.teaching.last;
      if (flags & DIRTY.teaching && last && last !== phase && !store.teaching.auto) reveal(narration, NARRATION_PEEK);
      phase = last;
    },
  });
}
