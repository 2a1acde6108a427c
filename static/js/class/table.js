// The class as a table: the grid's data for a screen reader (and for a teacher who prefers rows):
// name, badge, step, learning rate, hidden layers, activation, losses, the challenge, the lesson step's task.
// Visually hidden until the teacher shows it; rows are kept per student and updated in place,
// once a second at most (a screen reader reads a table when asked, not four times a second).

import { el, setText } from "../dom.js";
import { groupedInteger, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { DIRTY, setTableShown, state } from "./state.js";
import { architecture, badgeLabel, choiceLabel, shownName } from "./words.js";

const box = document.getElementById("class-table-box");
const body = document.querySelector("#class-table tbody");
const toggle = document.getElementById("class-table-toggle");
const rows = new Map(); // student key -> [cells]
const COLUMNS = 10;

function cellsOf(student) {
  const session = student.session;
  const config = session?.config;
  const metrics = session?.metrics;
  return [
    shownName(student),
    session ? badgeLabel(session.badge) : t("class.no_session"),
    session ? groupedInteger(session.step) : "–",
    config ? shortNumber(config.learning_rate, 3) : "–",
    config ? architecture(config) : "–",
    config ? choiceLabel("activation", config.activation) : "–",
    shortNumber(metrics?.train_loss, 3),
    shortNumber(metrics?.test_loss, 3),
    session?.reached_challenge ? t("class.yes") : "",
    student.task_done ? t("lessons.done") : "",
  ];
}

function render() {
  const students = state.view?.students ?? [];
  const seen = new Set();
  for (const student of [...students].sort((a, b) => a.number - b.number)) {
    seen.add(student.key);
    let cells = rows.get(student.key);
    if (!cells) {
      const row = el("tr");
      cells = [el("th")];
      cells[0].scope = "row";
      for (let index = 1; index < COLUMNS; index++) cells.push(el("td"));
      row.append(...cells);
      body.append(row);
      rows.set(student.key, cells);
    }
    cellsOf(student).forEach((text, index) => setText(cells[index], text));
  }
  for (const [key, cells] of rows) {
    if (seen.has(key)) continue;
    cells[0].parentElement.remove();
    rows.delete(key);
  }
  box.classList.toggle("visually-hidden", !state.tableShown);
  toggle.setAttribute("aria-pressed", String(state.tableShown));
}

export function initTable() {
  toggle.addEventListener("click", () => setTableShown(!state.tableShown));
  registerRenderer({
    name: "class-table",
    mask: DIRTY.view | DIRTY.lang | DIRTY.table | DIRTY.names,
    interval: 1000,
    urgent: DIRTY.lang | DIRTY.table | DIRTY.names,
    render,
  });
}

