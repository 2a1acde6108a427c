// Long work as jobs (docs/api.md, "Jobs"): submit it, follow its progress in a bar with a cancel
// button, and hand back its result. The learning-rate lab runs its range test this way; any
// view can: `runJob(body, bar)` with a bar made by `jobProgress(anchor, name)`.
//
// The bar lives next to the button that started the work and is the only thing this module
// draws: the result goes back to the caller, which puts it in the store for its renderer.

import { ApiError, api } from "./api.js";
import { duration, percent } from "./format.js";
import { t } from "./i18n.js";
import { el, setText } from "./dom.js";
import { store } from "./store.js";

const POLL_MS = 250; // how often a running job is read (its progress moves every few milliseconds)

/** The job was cancelled (by its cancel button) before it finished. */
export class JobCancelled extends Error {
  constructor() {
    super("job cancelled");
    this.reason = "job_cancelled"; // refusals.js says it in the reader's language
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A progress bar with its text and a cancel button, inserted after `anchor`, hidden until a job
 * runs. `name` prefixes its test ids (`${name}-progress`, `${name}-cancel`). */
export function jobProgress(anchor, name) {
  const box = el("div", "job-progress");
  box.dataset.testid = `${name}-job`;
  box.hidden = true;
  const bar = el("progress");
  bar.max = 1;
  bar.value = 0;
  bar.dataset.testid = `${name}-progress`;
  bar.id = `${name}-progress`;
  const text = el("span", "job-progress-text");
  text.setAttribute("aria-live", "polite");
  text.dataset.testid = `${name}-progress-text`;
  const label = el("label", "visually-hidden");
  label.htmlFor = bar.id;
  const cancel = el("button", "chip");
  cancel.type = "button";
  cancel.dataset.testid = `${name}-cancel`;
  box.append(label, bar, text, cancel);
  anchor.after(box);
  const progress = { box, bar, text, label, cancel, view: null, onCancel: null };
  cancel.addEventListener("click", () => progress.onCancel?.());
  return progress;
}

/** Redraw a bar from a job's view (also after a language switch: its words are re-read). */
export function drawProgress(progress) {
  const view = progress.view;
  setText(progress.label, t("jobs.progress_label"));
  setText(progress.cancel, t("jobs.cancel"));
  if (!view) return;
  const { fraction, seconds_left: left } = view.progress;
  progress.bar.value = fraction;
  progress.bar.dataset.fraction = String(fraction);
  progress.box.dataset.state = view.state;
  let words;
  if (view.state === "queued") words = t("jobs.queued");
  else if (left === null || left === undefined) words = t("jobs.running", { percent: percent(fraction, store.lang) });
  else words = t("jobs.running_left", { percent: percent(fraction, store.lang), left: duration(left, store.lang) });
  setText(progress.text, words);
}

/** Submit `body` as a job and follow it in `progress` until it ends. Resolves with its result;
 * rejects with the `ApiError` of a refusal or of the job's failure, or `JobCancelled`. */
export async function runJob(body, progress) {
  let view = await api.submitJob(body);
  let cancelled = false;
  let stopped = false; // the server answered the cancel: the bar goes now, not at the next poll
  progress.view = view;
  progress.onCancel = async () => {
    cancelled = true;
    progress.cancel.disabled = true;
    try {
      view = await api.cancelJob(view.id);
      stopped = true;
      progress.box.hidden = true;
    } catch {
      // gone already (expired or finished and dropped): the next read says how it ended
    }
  };
  progress.cancel.disabled = false;
  progress.box.hidden = false;
  drawProgress(progress);
  try {
    while ((view.state === "queued" || view.state === "running") && !stopped) {
      await sleep(POLL_MS);
      if (stopped) break;
      view = await api.getJob(view.id);
      progress.view = view;
      drawProgress(progress);
    }
  } finally {
    progress.box.hidden = true;
    progress.onCancel = null;
  }
  if (view.state === "done") return view.result;
  if (view.state === "cancelled" || cancelled) throw new JobCancelled();
  throw new ApiError(view.error?.detail ?? "the job failed", 0, null, view.error);
}
