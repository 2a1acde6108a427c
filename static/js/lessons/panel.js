// The lesson panel of /lessons/{lesson}/{step} (docs/lessons.md): the step's text, the network
// and data set up for it (its config, sent through the ordinary config path to the student's own
// session), the view it talks about highlighted, its task checked live from the store ("done ✓"
// once met), next/back (buttons, N and B, the browser's own back and forward), the progress, and
// the place remembered in localStorage so a reload carries on.
//
// On a viewer's page (/watch/{code}) the same panel follows the presenter: the session's `lesson`
// message names the step the presenter shows and whether its task is met there; the viewer reads
// it, with the same view highlighted, and has no next or back of its own.

import { el, setText } from "../dom.js";
import { percent, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { revealForStep } from "../link_params.js";
import { registerRenderer } from "../loop.js";
import { changeConfig } from "../settings.js";
import { DIRTY, markDirty, store } from "../store.js";
import { lessonKey, loadCatalogue, loadLesson } from "./catalogue.js";
import { reportDone } from "./class_step.js";
import { doneCount, progress, rememberAt, rememberDone, stepKey } from "./progress.js";
import { taskMeasure, taskMet } from "./tasks.js";

const panel = document.getElementById("lesson-panel");
const progressLine = document.getElementById("lesson-progress");
const stepTitle = document.getElementById("lesson-step-title");
const text = document.getElementById("lesson-text");
const taskLine = document.getElementById("lesson-task");
const backButton = document.getElementById("lesson-back");
const nextButton = document.getElementById("lesson-next");

const viewer = document.body.dataset.role === "viewer";
const numberBadge = document.getElementById("lesson-number");
const lessonName = document.getElementById("lesson-name");

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);
const HIGHLIGHT = "lesson-highlight";
const PERCENT_KINDS = new Set(["accuracy_at_least", "loss_rises_at_most", "loss_rises_at_least"]); // shares, shown as %

// the walk: the lesson file, the step shown, whether its config still has to be sent
const walk = { lesson: null, nextLesson: null, step: 1, configPending: false, shown: "" };
// a viewer's page: the presenter's lesson being loaded, and the step its panel shows
const follow = { loading: null, key: "" };

function currentStep() {
  return walk.lesson.steps[walk.step - 1];
}

/** The step's config: the server's defaults, the lesson's own, then the step's changes. Every
 * field is set, so nothing a student changed in an earlier step or lesson carries over. */
function stepConfig() {
  return { ...(store.options?.defaults ?? {}), ...(walk.lesson.config ?? {}), ...(currentStep().config ?? {}) };
}

/** Sends what differs from the session's config, once the socket is open. */
function applyConfigWhenOpen() {
  if (!walk.configPending || store.connection !== "open" || !store.config) return;
  walk.configPending = false;
  const changes = {};
  for (const [key, value] of Object.entries(stepConfig())) {
    if (JSON.stringify(store.config[key]) !== JSON.stringify(value)) changes[key] = value;
  }
  if (Object.keys(changes).length) changeConfig(changes);
}

function clearHighlight() {
  for (const element of document.querySelectorAll(`.${HIGHLIGHT}`)) element.classList.remove(HIGHLIGHT);
}

function highlight() {
  clearHighlight();
  revealForStep(currentStep().highlight); // shown even if the lesson link hid it
  const target = document.getElementById(currentStep().highlight);
  panel.dataset.highlight = currentStep().highlight;
  if (!target) return;
  target.classList.add(HIGHLIGHT);
  const toggle = target.querySelector("[aria-expanded='false'].disclosure"); // a folded panel opens
  if (toggle) toggle.click();
}

/** Shows step `step`; `apply` sends its config (entering it), else the session keeps its own (a reload). */
function enterStep(step, apply) {
  walk.step = step;
  walk.configPending = apply;
  walk.shown = "";
  rememberAt(walk.lesson.id, step);
  highlight();
  markDirty(DIRTY.config | DIRTY.lang);
}

function go(step) {
  const steps = walk.lesson.steps.length;
  if (step < 1) return;
  if (step > steps) {
    window.location.assign(walk.nextLesson ? `/lessons/${walk.nextLesson}/1` : "/lessons");
    return;
  }
  history.pushState({ lessonStep: step }, "", `/lessons/${walk.lesson.id}/${step}${window.location.hash}`);
  enterStep(step, true);
  const target = document.getElementById(currentStep().highlight);
  target?.scrollIntoView({ block: "nearest" });
  panel.scrollIntoView({ block: "nearest" });
}

function onKeyDown(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  if (TYPING.has(event.target?.tagName) || event.target?.isContentEditable) return;
  const key = event.key.toLowerCase();
  if (key === "n") go(walk.step + 1);
  else if (key === "b") go(walk.step - 1);
  else return;
  event.preventDefault();
}

function measureText(task) {
  const value = taskMeasure(task, store);
  if (value === null) return "";
  const shown = PERCENT_KINDS.has(task.kind) ? percent(value) : shortNumber(value, 2);
  return t(`lessons.measure.${task.kind}`, { value: shown });
}

/** The task's thresholds as the sentence shows them, in the page's language. */
function taskVars(task) {
  const vars = {};
  for (const [name, value] of Object.entries(task)) {
    if (typeof value !== "number") continue;
    const share = (name === "value" || name === "share") && PERCENT_KINDS.has(task.kind);
    vars[name] = share ? percent(value) : shortNumber(value);
  }
  for (const [name, value] of Object.entries(task.requires ?? {})) if (typeof value === "number") vars[name] = shortNumber(value);
  return vars;
}

function render() {
  if (!walk.lesson) return;
  applyConfigWhenOpen();
  const { id } = walk.lesson;
  const steps = walk.lesson.steps.length;
  const task = currentStep().task;
  const done = viewer ? Boolean(store.sessionLesson?.done) : stepDone(task);

  progressLine.dataset.step = String(walk.step);
  progressLine.dataset.steps = String(steps);
  const where = viewer ? t("lessons.following", { step: walk.step, steps })
    : t("lessons.progress", { step: walk.step, steps, done: doneCount(id, steps) });
  setText(progressLine, where);
  setText(numberBadge, String(walk.lesson.number));
  setText(lessonName, t(lessonKey(id, "title")));
  setText(stepTitle, t(lessonKey(id, "title", walk.step)));
  if (!viewer) document.title = `${t(lessonKey(id, "title"))} — Backprop Lab`;

  const shown = `${store.lang}:${walk.step}`;
  if (walk.shown !== shown) { // the text is rebuilt only for a new step or language
    walk.shown = shown;
    text.replaceChildren(...t(lessonKey(id, "text", walk.step)).split("\n\n").map((paragraph) => el("p", "", paragraph)));
  }
  const parts = [el("span", "task-label", t("lessons.task")), el("span", "task-text", t(lessonKey(id, "task", walk.step), taskVars(task)))];
  const measure = measureText(task);
  if (measure) parts.push(el("span", "task-measure", measure));
  if (done) {
    const badge = el("strong", "task-done", t("lessons.done"));
    badge.dataset.testid = "lesson-task-done";
    parts.push(badge);
  }
  const key = parts.map((part) => part.textContent).join("|");
  if (taskLine.dataset.shown !== key) {
    taskLine.dataset.shown = key;
    taskLine.replaceChildren(...parts);
  }
  taskLine.dataset.done = String(done);
  if (viewer) return;
  backButton.disabled = walk.step === 1;
  setText(nextButton, walk.step < steps ? t("lessons.next") : walk.nextLesson ? t("lessons.next_lesson") : t("lessons.all"));
}

/** Whether this page met the step's task (remembered once met; a class hears of it). */
function stepDone(task) {
  const { id } = walk.lesson;
  if (taskMet(task, store)) rememberDone(id, walk.step);
  const done = Boolean(progress().done[stepKey(id, walk.step)]);
  if (done) reportDone(id, walk.step); // to the teacher's class page, when the student is in a class
  return done;
}

/** A viewer's page: shows the step the presenter shows (loading its lesson first), or no panel. */
function followPresenter() {
  const place = store.sessionLesson;
  const key = place ? `${place.id}/${place.step}` : "";
  if (key === follow.key) return;
  follow.key = key;
  if (!place) {
    walk.lesson = null;
    panel.hidden = true;
    document.body.classList.remove("lesson-open");
    clearHighlight();
    revealForStep(null);
    return;
  }
  if (walk.lesson?.id === place.id) {
    showFollowed(place.step);
    return;
  }
  const loading = loadLesson(place.id);
  follow.loading = loading;
  loading.then((lesson) => {
    if (follow.loading !== loading || store.sessionLesson?.id !== lesson.id) return; // overtaken
    walk.lesson = lesson;
    showFollowed(store.sessionLesson.step);
  }).catch((error) => console.warn(error.message));
}

function showFollowed(step) {
  if (step > walk.lesson.steps.length) return;
  walk.step = step;
  walk.shown = "";
  panel.hidden = false;
  document.body.classList.add("lesson-open");
  highlight();
  markDirty(DIRTY.lang);
}

/** The lesson page as the class sees it (class_step.js): where it is, and a way to move it. */
const lessonPage = {
  place: () => (walk.lesson ? { lesson: walk.lesson.id, step: walk.step } : null),
  done: () => Boolean(walk.lesson && progress().done[stepKey(walk.lesson.id, walk.step)]),
  moveTo: (step) => go(step),
};

const MASK = DIRTY.lang | DIRTY.config | DIRTY.connection | DIRTY.metrics | DIRTY.state | DIRTY.heatmaps
  | DIRTY.selection | DIRTY.network | DIRTY.lab | DIRTY.notices | DIRTY.history | DIRTY.checks | DIRTY.teaching;

/** Sets up a lesson step's page; returns `lessonPage`, or null on any other page (a viewer's
 * page follows its presenter's lesson). */
export async function initLessonPanel() {
  if (!panel) return null;
  if (viewer) {
    registerRenderer({ name: "lesson-follow", mask: DIRTY.classroom, render: followPresenter });
    registerRenderer({ name: "lesson-panel", mask: MASK | DIRTY.classroom, render });
    return null;
  }
  const id = document.body.dataset.lesson;
  const step = Number(document.body.dataset.lessonStep);
  const [lesson, catalogue] = await Promise.all([loadLesson(id), loadCatalogue()]);
  walk.lesson = lesson;
  walk.nextLesson = catalogue.lessons[catalogue.lessons.indexOf(id) + 1] ?? null;
  // a reload of the step open last keeps the student's own network (its config is in the address)
  const reload = progress().at === stepKey(id, step) && window.location.hash.length > 1;
  enterStep(step, !reload);
  backButton.addEventListener("click", () => go(walk.step - 1));
  nextButton.addEventListener("click", () => go(walk.step + 1));
  document.addEventListener("keydown", onKeyDown);
  window.addEventListener("popstate", () => {
    const match = window.location.pathname.match(/^\/lessons\/[^/]+\/(\d+)$/);
    if (match) enterStep(Number(match[1]), true);
  });
  registerRenderer({ name: "lesson-panel", mask: MASK, render });
  markDirty(DIRTY.lang);
  return lessonPage;
}
