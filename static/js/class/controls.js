// The teacher's controls on the class page, each one REST call (docs/api.md, "Classes"): open a
// class, pause and resume it, hide names, push a config to every student, set or clear a
// challenge, end the class. What each did (or why the server refused) shows in the status line;
// the class stream then shows the new state.

import { api } from "../api.js";
import { setText } from "../dom.js";
import { localNumber, parseLocalNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { describeProblem, explain } from "../refusals.js";
import { DIRTY, setStatus, setView, state } from "./state.js";
import { endStream, streamClass } from "./stream.js";
import { challengeText, choiceLabel, datasetLabel, higherIsBetter, metricLabel, METRICS, shownName } from "./words.js";

const byId = (id) => document.getElementById(id);

const pauseButton = byId("class-pause-all");
const resumeButton = byId("class-resume-all");
const anonymiseButton = byId("class-anonymise");
const pushForm = byId("class-push-config");
const pushRate = byId("class-push-rate");
const pushActivation = byId("class-push-activation");
const pushLayers = byId("class-push-layers");
const challengeForm = byId("class-challenge-form");
const challengeDataset = byId("class-challenge-dataset");
const challengeMetric = byId("class-challenge-metric");
const challengeTarget = byId("class-challenge-target");
const challengeNeurons = byId("class-challenge-neurons");
const challengeClear = byId("class-challenge-clear");
const status = byId("class-status");
const challengeShown = byId("class-challenge-shown");

/** Runs one control's REST call with its button disabled; a refusal goes to the status line. */
async function act(button, call, done) {
  if (button) button.disabled = true;
  try {
    const answer = await call();
    done?.(answer);
  } catch (error) {
    setStatus({ error });
  } finally {
    if (button) button.disabled = false;
  }
}

export async function openClass(button) {
  await act(button, () => api.openClass(), (view) => {
    setView(view);
    streamClass(view.code);
  });
}

/** Hides names (or shows them again); projector mode turns hiding on (class_page.js). */
export function setAnonymous(anonymous) {
  const code = state.view?.code;
  if (!code || state.view.anonymous === anonymous) return Promise.resolve();
  return act(anonymiseButton, () => api.changeClass(code, { anonymous }), setView);
}

/** What the push form asks for: only the fields filled in. Null (and the field marked) when one
 * cannot be read. */
function pushChanges() {
  const changes = {};
  for (const input of [pushRate, pushLayers]) input.removeAttribute("aria-invalid");
  if (pushRate.value.trim()) {
    const rate = parseLocalNumber(pushRate.value);
    if (!Number.isFinite(rate)) return invalid(pushRate, "hyper.learning_rate");
    changes.learning_rate = rate;
  }
  if (pushActivation.value) changes.activation = pushActivation.value;
  if (pushLayers.value.trim()) {
    const sizes = pushLayers.value.split(/[\s,;·]+/).filter(Boolean).map(Number);
    if (!sizes.every((size) => Number.isInteger(size) && size > 0)) return invalid(pushLayers, "network.hidden_layers");
    changes.hidden_layers = sizes;
  }
  return changes;
}

function invalid(input, labelKey) {
  input.setAttribute("aria-invalid", "true");
  input.focus();
  setStatus({ key: "class.push_unreadable", vars: { field: () => t(labelKey) } });
  return null;
}

function nameOfKey(key) {
  const student = state.view?.students.find((other) => other.key === key);
  return student ? shownName(student) : key;
}

async function push(event) {
  event.preventDefault();
  const changes = pushChanges();
  if (!changes) return;
  if (!Object.keys(changes).length) {
    setStatus({ key: "class.push_nothing" });
    return;
  }
  await act(pushForm.querySelector("button[type=submit]"), () => api.pushClassConfig(state.view.code, changes), (answer) => {
    const refused = answer.refused ?? [];
    setStatus({
      key: refused.length ? "class.pushed_refused" : "class.pushed",
      vars: { applied: answer.applied, refused: refused.length, names: () => refused.map((item) => `${nameOfKey(item.student)} (${describeProblem(item)})`).join(", ") },
    });
  });
}

/** The challenge the form describes; accuracy is typed in percent ("95"), a loss as a number. */
function challenge() {
  const metric = challengeMetric.value;
  let target = parseLocalNumber(challengeTarget.value);
  challengeTarget.removeAttribute("aria-invalid");
  if (!Number.isFinite(target)) return invalid(challengeTarget, "class.challenge_target");
  if (higherIsBetter(metric)) target /= 100;
  const neurons = challengeNeurons.value.trim() ? Number(challengeNeurons.value) : null;
  if (neurons !== null && !(Number.isInteger(neurons) && neurons > 0)) return invalid(challengeNeurons, "class.challenge_neurons_label");
  return { dataset: challengeDataset.value || null, metric, target, max_hidden_neurons: neurons };
}

async function setChallenge(event) {
  event.preventDefault();
  const wanted = challenge();
  if (!wanted) return;
  await act(challengeForm.querySelector("button[type=submit]"), () => api.changeClass(state.view.code, { challenge: wanted }), (view) => {
    setView(view);
    setStatus({ key: "class.challenge_set" });
  });
}

function fillSelect(select, values, labelOf, empty) {
  const chosen = select.value;
  const options = values.map((value) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = labelOf(value);
    return option;
  });
  if (empty) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = t(empty);
    options.unshift(option);
  }
  select.replaceChildren(...options);
  if (values.includes(chosen) || chosen === "") select.value = chosen;
}

function names(kind) {
  return (state.options?.[kind] ?? []).map((item) => (typeof item === "string" ? item : item.name));
}

function renderForms() {
  fillSelect(pushActivation, names("activations"), (name) => choiceLabel("activation", name), "class.unchanged");
  fillSelect(challengeDataset, names("datasets").filter((name) => name !== "uploaded"), datasetLabel, "class.any_dataset");
  fillSelect(challengeMetric, METRICS, metricLabel);
  pushRate.placeholder = t("class.unchanged");
  pushLayers.placeholder = t("class.layers_placeholder");
  const current = state.view?.challenge;
  if (current && document.activeElement?.form !== challengeForm) {
    challengeDataset.value = current.dataset ?? "";
    challengeMetric.value = current.metric;
    challengeTarget.value = localNumber(higherIsBetter(current.metric) ? current.target * 100 : current.target);
    challengeNeurons.value = current.max_hidden_neurons ?? "";
  }
}

function renderStatus() {
  const shown = state.status;
  if (!shown) return setText(status, "");
  setText(status, shown.error ? explain(shown.error) : t(shown.key, shown.vars));
  status.dataset.kind = shown.error ? "error" : "done";
}

export function initControls() {
  byId("class-open").addEventListener("click", (event) => openClass(event.currentTarget));
  pauseButton.addEventListener("click", () => act(pauseButton, () => api.pauseClass(state.view.code), setView));
  resumeButton.addEventListener("click", () => act(resumeButton, () => api.resumeClass(state.view.code), setView));
  anonymiseButton.addEventListener("click", () => setAnonymous(!state.view.anonymous));
  pushForm.addEventListener("submit", push);
  challengeForm.addEventListener("submit", setChallenge);
  challengeClear.addEventListener("click", () => act(challengeClear, () => api.changeClass(state.view.code, { challenge: null }), (view) => {
    setView(view);
    setStatus({ key: "class.challenge_cleared" });
  }));
  byId("class-end-confirm").addEventListener("click", (event) => act(event.currentTarget, () => api.endClass(state.view.code), () => {
    endStream();
    setView(null);
    setStatus({ key: "class.ended" });
  }));

  registerRenderer({
    name: "class-controls",
    mask: DIRTY.view | DIRTY.lang | DIRTY.status | DIRTY.connection,
    render(flags) {
      const view = state.view;
      if (flags & (DIRTY.lang | DIRTY.view)) renderForms();
      if (view) {
        if (pauseButton.disabled !== view.paused) pauseButton.disabled = view.paused;
        if (resumeButton.disabled !== !view.paused) resumeButton.disabled = !view.paused;
        anonymiseButton.setAttribute("aria-pressed", String(view.anonymous));
        byId("class-export").href = api.classCsvUrl(view.code);
        const reached = view.students.filter((student) => student.session?.reached_challenge).length;
        const words = view.challenge ? t("class.challenge_shown", { goal: challengeText(view.challenge), reached }) : "";
        setText(challengeShown, words);
        if (challengeShown.hidden === Boolean(view.challenge)) challengeShown.hidden = !view.challenge;
      }
      if (flags & (DIRTY.status | DIRTY.lang)) renderStatus();
    },
  });
}
