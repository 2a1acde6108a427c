// The class grid: one card per student (`class-student`), made once when the student first
// appears and then updated in place: text only where it changed, pictures only when their data
// changed (pictures.js). Sorting moves the cards that are out of place, at most once a second
// while sorted by loss (a loss changes four times a second; cards jumping that often cannot be
// read or clicked), so keyboard order always follows what the eye sees.

import { el, setText } from "../dom.js";
import { groupedInteger, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { DIRTY, state, toggleSelected, COMPARE_LIMIT } from "./state.js";
import { Sparkline, Thumbnail } from "./pictures.js";
import { architecture, badgeLabel, BADGES, NEEDS_HELP, shownName } from "./words.js";

const RESORT_MS = 1000;
const BADGE_GLYPHS = { learning: "↘", converged: "✓", stuck: "—", diverged: "✕", idle: "○" };

const grid = document.getElementById("class-grid");
const empty = document.getElementById("class-empty");
const count = document.getElementById("class-count");
const cards = new Map(); // student key -> card
let lastSort = 0;
let drawnOrder = "";

/** The train loss a card sorts by (no session, or a non-finite loss, sorts last). */
function lossOf(student) {
  const loss = student.session?.metrics?.train_loss;
  return Number.isFinite(loss) ? loss : Infinity;
}

function badgeOf(student) {
  return student.session?.badge ?? "idle";
}

function ordered(students) {
  const list = [...students];
  if (state.sort === "loss") list.sort((a, b) => lossOf(a) - lossOf(b) || a.number - b.number);
  else if (state.sort === "badge") {
    list.sort((a, b) => BADGES.indexOf(badgeOf(a)) - BADGES.indexOf(badgeOf(b)) || a.number - b.number);
  } else list.sort((a, b) => a.number - b.number);
  return list;
}

function fact(labelKey, testId) {
  const item = el("div");
  const term = el("dt", "", t(labelKey));
  term.dataset.i18n = labelKey;
  const value = el("dd");
  if (testId) value.dataset.testid = testId;
  item.append(term, value);
  return { item, value };
}

function makeCard(student) {
  const card = el("article", "class-student");
  card.dataset.testid = "class-student";
  card.dataset.key = student.key;
  const head = el("header", "student-head");
  const name = el("h3", "student-name");
  name.id = `student-${student.key}`;
  name.dataset.testid = "class-student-name";
  card.setAttribute("aria-labelledby", name.id);
  const badge = el("span", "student-badge");
  badge.dataset.testid = "class-student-badge";
  head.append(name, badge);
  const pictures = el("div", "student-pictures");
  const thumbnailCanvas = el("canvas", "student-thumbnail");
  thumbnailCanvas.width = 1;
  thumbnailCanvas.height = 1;
  thumbnailCanvas.setAttribute("role", "img");
  const sparkCanvas = el("canvas", "student-sparkline");
  sparkCanvas.width = 160;
  sparkCanvas.height = 40;
  sparkCanvas.setAttribute("aria-hidden", "true");
  pictures.append(thumbnailCanvas, sparkCanvas);
  const facts = el("dl", "student-facts");
  const step = fact("counters.step", "class-student-step");
  const rate = fact("hyper.learning_rate", "class-student-rate");
  const layers = fact("network.hidden_layers", "class-student-layers");
  const loss = fact("class.metric.train_loss", "class-student-loss");
  facts.append(step.item, rate.item, layers.item, loss.item);
  const foot = el("footer", "student-foot");
  const reached = el("span", "student-reached");
  reached.dataset.testid = "class-student-reached";
  const offline = el("span", "student-offline hint");
  const pick = el("label", "student-pick");
  const box = el("input");
  box.type = "checkbox";
  box.dataset.testid = "class-student-pick";
  box.addEventListener("change", () => toggleSelected(student.key));
  const pickText = el("span", "", t("class.pick"));
  pickText.dataset.i18n = "class.pick";
  pick.append(box, pickText);
  const taskDone = el("span", "student-task-done");
  taskDone.hidden = true;
  foot.append(reached, taskDone, offline, pick);
  card.append(head, pictures, facts, foot);
  return {
    card, name, badge, step: step.value, rate: rate.value, layers: layers.value, loss: loss.value, reached, taskDone, offline,
    box, thumbnail: new Thumbnail(thumbnailCanvas), thumbnailCanvas, spark: new Sparkline(sparkCanvas),
  };
}

function setData(element, name, value) {
  if (element.dataset[name] !== value) element.dataset[name] = value;
}

function updateCard(parts, student, flags) {
  const session = student.session;
  const shown = shownName(student);
  setText(parts.name, shown);
  const badge = badgeOf(student);
  setData(parts.card, "badge", badge);
  setData(parts.badge, "badge", badge);
  setText(parts.badge, `${BADGE_GLYPHS[badge] ?? "•"} ${badgeLabel(badge)}`);
  setData(parts.card, "online", String(student.online));
  setText(parts.offline, student.online ? "" : t("class.offline"));
  setText(parts.step, session ? groupedInteger(session.step) : "–");
  setData(parts.step, "value", session ? String(session.step) : "");
  const config = session?.config;
  setText(parts.rate, config ? shortNumber(config.learning_rate, 3) : "–");
  setData(parts.rate, "value", config ? String(config.learning_rate) : "");
  setText(parts.layers, config ? architecture(config) : "–");
  setText(parts.loss, session ? shortNumber(session.metrics?.train_loss, 3) : "–");
  setData(parts.loss, "value", String(session?.metrics?.train_loss ?? ""));
  const reached = session?.reached_challenge === true;
  setData(parts.card, "reached", String(reached));
  setText(parts.reached, reached ? `★ ${t("class.reached")}` : "");
  const taskDone = student.task_done === true; // the task of the class's lesson step (lesson_step.js)
  setData(parts.card, "taskDone", String(taskDone));
  if (parts.taskDone.hidden === taskDone) parts.taskDone.hidden = !taskDone;
  setText(parts.taskDone, taskDone ? t("lessons.done") : "");
  if (taskDone) parts.taskDone.dataset.testid = "class-student-task-done";
  else delete parts.taskDone.dataset.testid;
  if (flags & (DIRTY.lang | DIRTY.view)) {
    const label = session ? t("class.thumbnail_label", { name: shown }) : t("class.no_session");
    if (parts.thumbnailCanvas.getAttribute("aria-label") !== label) parts.thumbnailCanvas.setAttribute("aria-label", label);
  }
  parts.thumbnail.show(session?.thumbnail ?? null);
  parts.spark.show(session?.losses ?? [], state.projector ? 3 : 1.5);
  const picked = state.selected.includes(student.key);
  if (parts.box.checked !== picked) parts.box.checked = picked;
  const full = !picked && state.selected.length >= COMPARE_LIMIT;
  if (parts.box.disabled !== full) parts.box.disabled = full;
}

function render(flags, now) {
  const students = state.view?.students ?? [];
  const seen = new Set();
  for (const student of students) {
    seen.add(student.key);
    let parts = cards.get(student.key);
    if (!parts) {
      parts = makeCard(student);
      cards.set(student.key, parts);
      grid.append(parts.card);
      drawnOrder = ""; // a new card: put it in its place now
    }
    updateCard(parts, student, flags);
    const hide = state.needsHelp && !NEEDS_HELP.has(badgeOf(student));
    if (parts.card.hidden !== hide) parts.card.hidden = hide;
  }
  for (const [key, parts] of cards) {
    if (seen.has(key)) continue;
    parts.card.remove();
    cards.delete(key);
  }
  const resort = flags & DIRTY.order || state.sort !== "loss" || now - lastSort >= RESORT_MS || drawnOrder === "";
  if (resort) {
    const order = ordered(students).map((student) => student.key);
    const key = order.join(" ");
    if (key !== drawnOrder) {
      order.forEach((studentKey, index) => {
        const card = cards.get(studentKey).card;
        if (grid.children[index] !== card) grid.insertBefore(card, grid.children[index] ?? null);
      });
      drawnOrder = key;
      lastSort = now;
    }
  }
  empty.hidden = students.length > 0 || !state.view;
  const words = t("class.students_count", { count: groupedInteger(students.length) });
  setText(count, state.view ? words : "");
}

export function initGrid() {
  registerRenderer({
    name: "class-grid",
    mask: DIRTY.view | DIRTY.lang | DIRTY.order | DIRTY.selection | DIRTY.projector,
    render,
  });
}
