// The transport bar — play/pause, step, phase step, reset, speed — and its keyboard shortcuts:
// Space play/pause, → next phase, S one step, R reset. Shortcuts stay out of the way while the
// user types in a field or works a select or slider, and Space on a focused button keeps its
// native meaning (press that button).

import { setText } from "./dom.js";
import { groupedInteger } from "./format.js";
import { t } from "./i18n.js";
import { panelHidden } from "./link_params.js";
import { registerRenderer } from "./loop.js";
import { uiRange } from "./options.js";
import { chosenPace, rememberPace, speedLabel } from "./pace.js";
import { send } from "./session.js";
import {
  DIRTY, classPaused, isReplaying, markDirty, setConnectionNotice, setSpeedSetting, store, whileRunning,
} from "./store.js";
import { stopAutoPhases, stepPhase } from "./teaching.js";

const playButton = document.getElementById("play-button");
const playLabel = document.getElementById("play-label");
const playGlyph = document.getElementById("play-glyph");
const stepButton = document.getElementById("step-button");
const phaseButton = document.getElementById("phase-step-button");
const resetButton = document.getElementById("reset-button");
const speedSelect = document.getElementById("speed");
const stepCounter = document.getElementById("step-counter");
const epochCounter = document.getElementById("epoch-counter");
const speedCounter = document.getElementById("speed-counter");

function setCount(element, value) {
  setText(element, groupedInteger(value));
  const raw = String(value);
  if (element.dataset.value !== raw) element.dataset.value = raw;
}

/** A counter with nothing to show (the epoch of a replayed snapshot): a dash, and no data-value. */
function setNoCount(element) {
  setText(element, "–");
  if (element.dataset.value !== "") element.dataset.value = "";
}

export function togglePlay() {
  if (isReplaying()) return; // training waits until the replay is back at the saved step
  if (classPaused() && store.state !== "running") return; // the teacher paused the class (class_note.js says so)
  stopAutoPhases();
  setConnectionNotice(null); // "press Play to train again": read and done
  send({ type: store.state === "running" ? "pause" : "play" });
}

export function stepOnce() {
  if (isReplaying() || classPaused()) return;
  stopAutoPhases();
  send({ type: "step", steps: 1 });
}

export function reset() {
  if (isReplaying()) return;
  stopAutoPhases();
  send({ type: "reset" });
}

/** The presets, slowest first and "max" (0) last, as served; a speed set elsewhere (another tab,
 * a script) joins them in its place. */
function buildSpeedOptions() {
  const presets = uiRange("steps_per_second").presets ?? [0];
  const current = store.speedSetting;
  let speeds = presets;
  if (!presets.includes(current)) {
    const at = presets.findIndex((speed) => speed === 0 || speed > current);
    speeds = [...presets.slice(0, at < 0 ? presets.length : at), current, ...presets.slice(at < 0 ? presets.length : at)];
  }
  speedSelect.replaceChildren(
    ...speeds.map((speed) => {
      const option = document.createElement("option");
      option.value = String(speed);
      option.textContent = speedLabel(speed);
      return option;
    }),
  );
  speedSelect.value = String(current);
}

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);
const PRESSABLE = new Set(["BUTTON", "A", "SUMMARY"]);

function onKeyDown(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  const tag = target?.tagName;
  if (TYPING.has(tag) || target?.isContentEditable) return;
  if (store.role === "viewer") return; // a read-only view: nothing to play, step or reset
  switch (event.key) {
    case " ":
    case "Spacebar":
      if (PRESSABLE.has(tag) || target?.getAttribute?.("role") === "button") return; // native press
      event.preventDefault();
      togglePlay();
      break;
    case "ArrowRight":
      if (target?.closest?.("[data-arrow-keys]")) return; // the neuron grid uses arrows to move
      if (isReplaying() || classPaused() || panelHidden("teaching")) return; // a link hid the phases
      event.preventDefault();
      stepPhase();
      break;
    case "s":
    case "S":
      event.preventDefault();
      stepOnce();
      break;
    case "r":
    case "R":
      event.preventDefault();
      reset();
      break;
    default:
  }
}

export function initControls() {
  playButton.addEventListener("click", togglePlay);
  stepButton.addEventListener("click", stepOnce);
  phaseButton.addEventListener("click", () => {
    if (!classPaused()) stepPhase();
  });
  resetButton.addEventListener("click", reset);
  speedSelect.addEventListener("change", () => {
    const stepsPerSecond = Number(speedSelect.value);
    rememberPace(stepsPerSecond);
    setSpeedSetting(stepsPerSecond);
    send({ type: "speed", steps_per_second: stepsPerSecond });
  });
  document.addEventListener("keydown", onKeyDown);
  // a presenter's pace until its session's hello (session.js sends it then); a viewer shows the presenter's
  if (store.role !== "viewer") setSpeedSetting(chosenPace());
  buildSpeedOptions();

  registerRenderer({
    name: "transport",
    mask: DIRTY.state | DIRTY.lang | DIRTY.connection | DIRTY.runs | DIRTY.classroom,
    render(flags) {
      if (flags & DIRTY.lang) buildSpeedOptions();
      // offline, the server paused the session (its last control socket closed): Play, not Pause
      const running = store.state === "running" && store.connection === "open";
      const shown = running ? "running" : store.state === "running" ? "paused" : store.state;
      if (playButton.dataset.state !== shown || flags & DIRTY.lang) {
        playButton.dataset.state = shown;
        playButton.setAttribute("aria-pressed", String(running));
        playLabel.textContent = t(running ? "transport.pause" : "transport.play");
        playGlyph.textContent = running ? "❚❚" : "▶";
      }
      // while a replay shows an earlier snapshot, training waits (runs.js: "Back to the saved step")
      const disconnected = store.connection !== "open" || isReplaying();
      // the teacher paused the class (class_note.js): no training until they resume, the notice says why
      const paused = classPaused();
      for (const button of [playButton, stepButton, phaseButton, resetButton]) {
        const disabled = disconnected || (paused && button !== resetButton);
        if (button.disabled !== disabled) button.disabled = disabled;
        if (button === resetButton || paused === button.hasAttribute("aria-describedby")) continue;
        if (paused) button.setAttribute("aria-describedby", "class-paused-notice");
        else button.removeAttribute("aria-describedby");
      }
      const title = paused ? t("class_note.paused_title") : t(running ? "transport.pause_title" : "transport.play_title");
      if (playButton.title !== title) playButton.title = title;
      const speed = String(store.speedSetting);
      if (![...speedSelect.options].some((option) => option.value === speed)) buildSpeedOptions();
      if (document.activeElement !== speedSelect && speedSelect.value !== speed) speedSelect.value = speed;
    },
  });
  registerRenderer({
    name: "counters",
    mask: DIRTY.state | DIRTY.lang | DIRTY.connection | DIRTY.runs,
    interval: whileRunning(100), // 10 a second is all the eye reads
    urgent: DIRTY.connection | DIRTY.runs,
    render() {
      // in the reader's grouping (1,234 or 1.234); data-value keeps the plain number for scripts.
      // A replay shows the step of the snapshot in view (a snapshot keeps no epoch: a dash); nothing
      // trains while the page is offline or replaying, so the speed reads 0 then
      const replayed = isReplaying() ? store.replay.steps[store.replay.index] : null;
      setCount(stepCounter, replayed ?? store.step);
      if (replayed === null) setCount(epochCounter, store.epoch);
      else setNoCount(epochCounter);
      const training = store.state === "running" && store.connection === "open" && replayed === null;
      setCount(speedCounter, training ? Math.round(store.measuredSpeed) : 0);
      const counters = stepCounter.closest(".counters");
      if (counters.dataset.replay !== String(replayed !== null)) counters.dataset.replay = String(replayed !== null);
    },
  });
  markDirty(DIRTY.state);
}
