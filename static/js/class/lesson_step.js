// The teacher leads a lesson from the class page (docs/classroom.md, "Leading a lesson"): a chooser
// of every lesson step from the lesson files, "Move the class there" (PATCH the class's `lesson`,
// every student's page goes to that step), and a line saying where the class is and how many
// students reported the step's task done. The cards and the table mark each student (grid.js,
// table.js).

import { api } from "../api.js";
import { el, setText } from "../dom.js";
import { t } from "../i18n.js";
import { lessonKey, loadCatalogue, loadLesson } from "../lessons/catalogue.js";
import { registerRenderer } from "../loop.js";
import { DIRTY, markDirty, setStatus, setView, state } from "./state.js";

const form = document.getElementById("class-lesson-form");
const chooser = document.getElementById("class-lesson-step");
const moveButton = document.getElementById("class-move-to-step");
const clearButton = document.getElementById("class-lesson-clear");
const shown = document.getElementById("class-lesson-shown");

let lessons = []; // [{id, number, steps}] in the catalogue's order

/** "1.2 Neurons, weights and biases: One neuron's sum" — a lesson step as the teacher reads it. */
export function stepLabel(step) {
  const lesson = lessons.find((entry) => entry.id === step.id);
  const number = lesson ? `${lesson.number}.${step.step}` : `${step.id} ${step.step}`;
  return t("class.lesson_step_named", { number, lesson: t(lessonKey(step.id, "title")), step: t(lessonKey(step.id, "title", step.step)) });
}

function fillChooser() {
  const chosen = chooser.value;
  chooser.replaceChildren(...lessons.map((lesson) => {
    const group = el("optgroup");
    group.label = `${lesson.number}. ${t(lessonKey(lesson.id, "title"))}`;
    for (let step = 1; step <= lesson.steps; step++) {
      const option = el("option", "", t("class.lesson_option", { step, title: t(lessonKey(lesson.id, "title", step)) }));
      option.value = `${lesson.id}/${step}`;
      group.append(option);
    }
    return group;
  }));
  const current = state.view?.lesson;
  chooser.value = chosen || (current ? `${current.id}/${current.step}` : chooser.value);
}

async function change(button, lesson, statusKey) {
  button.disabled = true;
  try {
    setView(await api.changeClass(state.view.code, { lesson }));
    setStatus({ key: statusKey, vars: lesson ? { step: () => stepLabel(lesson) } : {} });
  } catch (error) {
    setStatus({ error });
  } finally {
    button.disabled = false;
  }
}

function move(event) {
  event.preventDefault();
  const [id, step] = chooser.value.split("/");
  if (id) change(moveButton, { id, step: Number(step) }, "class.lesson_moved");
}

function render() {
  const view = state.view;
  const lesson = view?.lesson ?? null;
  if (shown.hidden === Boolean(lesson)) shown.hidden = !lesson;
  clearButton.disabled = !lesson;
  if (!lesson) return;
  const done = view.students.filter((student) => student.task_done).length;
  shown.dataset.done = String(done);
  setText(shown, t("class.lesson_shown", { step: stepLabel(lesson), done, students: view.students.length }));
}

export async function initLessonStep() {
  form.addEventListener("submit", move);
  clearButton.addEventListener("click", () => change(clearButton, null, "class.lesson_cleared"));
  registerRenderer({
    name: "class-lesson-step",
    mask: DIRTY.view | DIRTY.lang,
    render(flags) {
      if (flags & DIRTY.lang) fillChooser();
      render();
    },
  });
  const catalogue = await loadCatalogue();
  const files = await Promise.all(catalogue.lessons.map(loadLesson));
  lessons = files.map((lesson) => ({ id: lesson.id, number: lesson.number, steps: lesson.steps.length }));
  markDirty(DIRTY.lang);
}
