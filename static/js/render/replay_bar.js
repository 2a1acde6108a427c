// The replay bar, by the transport controls: the timeline of the run this session was opened from
// (runs.js). While it stands before the saved step the page is in a clear "replay" state: the bar
// says so, the step counter shows the snapshot's step (controls.js) and the loss chart marks it
// (charts.js); Play, Step and Reset wait. One click on "Back to the saved step", or Escape,
// leaves the replay with the session exactly as saved.
//
// The scrubber is a native range input: arrows, Page Up/Down, Home and End move it from the
// keyboard, and a screen reader announces the step it stands at (aria-valuetext).

import { setText } from "../dom.js";
import { groupedInteger } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { leaveReplay, scrubTo } from "../runs.js";
import { DIRTY, isReplaying, store } from "../store.js";

const bar = document.getElementById("replay");
const title = document.getElementById("replay-title");
const scrubber = document.getElementById("replay-scrubber");
const stepText = document.getElementById("replay-step");
const leave = document.getElementById("replay-leave");

function render() {
  const current = store.replay;
  const replaying = isReplaying();
  document.body.classList.toggle("replaying", replaying);
  bar.hidden = current === null;
  if (!current) return;
  if (bar.dataset.replaying !== String(replaying)) bar.dataset.replaying = String(replaying);
  scrubber.max = String(current.steps.length - 1);
  if (document.activeElement !== scrubber || Number(scrubber.value) !== current.index) scrubber.value = String(current.index);
  const step = current.steps[current.index];
  const words = { step: groupedInteger(step, store.lang), saved: groupedInteger(current.savedStep, store.lang),
    n: current.index + 1, total: current.steps.length };
  setText(title, t("runs.replay_title", { name: current.name })); // text, never markup
  setText(stepText, t("runs.replay_step", words));
  scrubber.setAttribute("aria-valuetext", t("runs.replay_step", words));
  scrubber.dataset.step = String(step);
  setText(leave, t(replaying ? "runs.replay_leave" : "runs.replay_close"));
  leave.title = t("replay.leave_title");
}

/** Escape leaves the replay, wherever the focus is but in a field being typed in. */
function onKeyDown(event) {
  if (event.key !== "Escape" || event.defaultPrevented || !store.replay) return;
  const target = event.target;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(target?.tagName) && target !== scrubber) return;
  if (target?.isContentEditable) return;
  event.preventDefault();
  leaveReplay();
}

export function initReplayBar() {
  scrubber.addEventListener("input", () => scrubTo(Number(scrubber.value)));
  leave.addEventListener("click", () => leaveReplay());
  document.addEventListener("keydown", onKeyDown);
  registerRenderer({ name: "replay", mask: DIRTY.runs | DIRTY.lang, render });
}
