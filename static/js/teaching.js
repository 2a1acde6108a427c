// Teaching mode: choose a sample, then walk one training step phase by phase —
//   forward 1 … L, loss, backward L … 1, update
// — by hand (the phase button, →) or automatically at a chosen pace. The server runs each
// phase and sends its numbers (`phase` messages); this module asks for phases, times the
// animation and keeps the phase track (the row of phase names) in step.

import { t } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { onServerMessage } from "./messages.js";
import { send } from "./session.js";
import { DIRTY, setAutoPhases, setPhasePace, setSample, startPhaseAnimation, store } from "./store.js";

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

const track = document.getElementById("phase-track");
const autoButton = document.getElementById("teach-auto");
const paceSelect = document.getElementById("teach-pace");
const splitSelect = document.getElementById("sample-split");
const indexInput = document.getElementById("sample-index");

let autoTimer = null;

/** How long a phase's flow animation lasts (0 when the user prefers reduced motion). */
export function animationMs() {
  if (reducedMotion.matches) return 0;
  return store.teaching.auto ? Math.min(900, store.teaching.paceMs * 0.6) : 700;
}

export function stepPhase() {
  clearTimeout(autoTimer);
  send({ type: "phase" });
}

export function stopAutoPhases() {
  if (!store.teaching.auto) return;
  setAutoPhases(false);
  clearTimeout(autoTimer);
}

function toggleAuto() {
  setAutoPhases(!store.teaching.auto);
  if (store.teaching.auto) stepPhase();
  else clearTimeout(autoTimer);
}

/** Asks the server for `split`'s sample `index`; later frames and phases carry it. */
export function chooseSample(split, index) {
  const size = store.dataset?.[split]?.points?.length ?? 0;
  if (size === 0) return;
  const wrapped = ((index % size) + size) % size;
  setSample(split, wrapped);
  send({ type: "probe", split, index: wrapped });
}

function onPhase() {
  startPhaseAnimation(performance.now(), animationMs());
  const teaching = store.teaching;
  if (teaching.auto) {
    clearTimeout(autoTimer);
    autoTimer = setTimeout(() => {
      if (store.teaching.auto) send({ type: "phase" });
    }, Math.max(teaching.paceMs, teaching.animationMs + 100));
  }
}

/** The phases of one step for a network of `depth` weighted layers, in the order they run. */
export function phaseSequence(depth) {
  const sequence = [];
  for (let layer = 0; layer < depth; layer++) sequence.push({ kind: "forward", layer });
  sequence.push({ kind: "loss", layer: null });
  for (let layer = depth - 1; layer >= 0; layer--) sequence.push({ kind: "backward", layer });
  sequence.push({ kind: "update", layer: null });
  return sequence;
}

/** A phase's name: "Forward H1" on the phase track's chips (`full` false), "Forward hidden layer
 * 1" where there is room (the narration's heading, the chip's tooltip), so an abbreviation is
 * never shown without its full name. */
export function phaseName(kind, layer, depth, full = false) {
  if (kind === "forward" || kind === "backward") {
    const output = layer === depth - 1;
    const name = full
      ? (output ? t("network.layer_output") : t("network.layer_hidden", { n: layer + 1 }))
      : (output ? t("teach.layer_output") : t("teach.layer_hidden", { n: layer + 1 }));
    return t(`teach.phase_${kind}`, { layer: name });
  }
  return t(`teach.phase_${kind}`);
}

function renderTrack() {
  const sizes = store.network?.layer_sizes;
  if (!sizes) return;
  const depth = sizes.length - 1;
  const sequence = phaseSequence(depth);
  if (track.children.length !== sequence.length || track.dataset.lang !== store.lang) {
    track.replaceChildren(
      ...sequence.map((phase, index) => {
        const item = document.createElement("li");
        item.dataset.kind = phase.kind;
        item.dataset.layer = phase.layer === null ? "" : String(phase.layer);
        item.dataset.index = String(index);
        item.textContent = phaseName(phase.kind, phase.layer, depth);
        item.title = phaseName(phase.kind, phase.layer, depth, true);
        return item;
      }),
    );
    track.dataset.lang = store.lang;
  }
  const done = store.teaching.phases.length;
  const lastIndex = store.teaching.last ? store.teaching.last.index : -1;
  for (const item of track.children) {
    const index = Number(item.dataset.index);
    item.classList.toggle("done", index < done && index !== lastIndex);
    item.classList.toggle("current", index === lastIndex);
    if (index === lastIndex) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
}

export function initTeaching() {
  autoButton.addEventListener("click", toggleAuto);
  paceSelect.addEventListener("change", () => setPhasePace(Number(paceSelect.value)));
  setPhasePace(Number(paceSelect.value));
  splitSelect.addEventListener("change", () => chooseSample(splitSelect.value, Number(indexInput.value) || 0));
  indexInput.addEventListener("change", () => chooseSample(splitSelect.value, Math.round(Number(indexInput.value) || 0)));
  document.getElementById("sample-prev").addEventListener("click", () => chooseSample(store.sample.split, store.sample.index - 1));
  document.getElementById("sample-next").addEventListener("click", () => chooseSample(store.sample.split, store.sample.index + 1));

  onServerMessage("phase", onPhase);
  onServerMessage("snapshot", stopAutoPhases);
  onServerMessage("error", stopAutoPhases);

  registerRenderer({
    name: "teaching-track",
    mask: DIRTY.teaching | DIRTY.network | DIRTY.lang | DIRTY.probe,
    render(flags) {
      if (flags & (DIRTY.teaching | DIRTY.network | DIRTY.lang)) renderTrack();
      autoButton.setAttribute("aria-pressed", String(store.teaching.auto));
      autoButton.textContent = t(store.teaching.auto ? "teach.auto_stop" : "teach.auto");
      const index = String(store.sample.index);
      if (document.activeElement !== splitSelect && splitSelect.value !== store.sample.split) splitSelect.value = store.sample.split;
      if (document.activeElement !== indexInput && indexInput.value !== index) indexInput.value = index;
      const size = store.dataset?.[store.sample.split]?.points?.length;
      if (size && indexInput.max !== String(size - 1)) indexInput.max = String(size - 1);
    },
  });
}
