// The teacher's class page (/class; docs/classroom.md): every student's network live on one page.
//
//   GET /api/v1/options ─▶ state (the forms' choices)
//   POST /api/v1/classes (opens, or answers with the open class) ─▶ /ws/classes/{code} ─▶ state
//   state ─▶ render loop ─▶ header, grid, table, scatter, compare view
//   controls (pause, resume, hide names, push, challenge, end) ─▶ REST ─▶ the stream shows the result
//
// Its own small store (class/state.js) and the lab's render loop (loop.js): the grid is updated in
// place, never rebuilt, so fifty students at four views a second stay smooth.

import { api, ApiError } from "./api.js";
import { setText } from "./dom.js";
import { currentLanguage, initialLanguage, setLanguage, t } from "./i18n.js";
import { attachStore, registerRenderer } from "./loop.js";
import { initCompare } from "./class/compare.js";
import { initControls, setAnonymous } from "./class/controls.js";
import { initGrid } from "./class/grid.js";
import { initLessonStep } from "./class/lesson_step.js";
import { initScatter, loadPlotly } from "./class/scatter.js";
import {
  DIRTY, markDirty, setConnection, setLang, setNeedsHelp, setOptions, setProjector, setSort, setView, state, takeDirty,
} from "./class/state.js";
import { rememberedClass, streamClass } from "./class/stream.js";
import { initTable } from "./class/table.js";

const byId = (id) => document.getElementById(id);
const languageSelect = byId("language-select");

/** `#lang=id&projector=1`: the class page keeps its language and projector mode in the address
 * as the lab does, so a bookmarked projector tab comes back the same. */
function readHash() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  return { lang: params.get("lang") ?? undefined, projector: params.get("projector") === "1" };
}

function writeHash() {
  const params = new URLSearchParams({ lang: state.lang });
  if (state.projector) params.set("projector", "1");
  const hash = `#${params}`;
  if (window.location.hash !== hash) history.replaceState(null, "", window.location.pathname + hash);
}

async function switchLanguage(lang) {
  try {
    if (!(await setLanguage(lang))) return;
  } catch (error) {
    console.warn(error);
  }
  setLang(currentLanguage());
  languageSelect.value = state.lang;
}

/** Projector mode: large type for the back of the room, and names hidden by default. */
function project(on) {
  setProjector(on);
  if (on) setAnonymous(true);
}

function onKeyDown(event) {
  const target = event.target;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(target?.tagName) || target?.isContentEditable) return;
  if ((event.key === "p" || event.key === "P") && !(event.ctrlKey || event.metaKey || event.altKey)) {
    event.preventDefault();
    project(!state.projector);
  }
}

function renderHeader() {
  const view = state.view;
  byId("class-none").hidden = view !== null || state.connection === "connecting";
  byId("class-live").hidden = view === null;
  byId("class-join-info").hidden = view === null;
  byId("class-paused-badge").hidden = !view?.paused;
  document.documentElement.classList.toggle("projector", state.projector);
  byId("projector-toggle").setAttribute("aria-pressed", String(state.projector));
  const badge = byId("class-connection");
  const shown = view === null && state.connection === "closed" ? "offline" : state.connection;
  badge.dataset.status = shown === "connecting" || shown === "reconnecting" ? shown : shown === "open" ? "open" : "offline";
  setText(badge, t(`class.connection.${state.connection}`));
  if (view) {
    const code = byId("class-code");
    setText(code, view.spoken);
    code.dataset.code = view.code;
    const link = byId("class-join-url");
    link.href = view.join_url;
    setText(link, view.join_url); // text, never markup
  }
  const title = view ? t("class.page_title_code", { code: view.spoken }) : t("class.page_title");
  if (document.title !== title) document.title = title;
  writeHash();
}

/** The class this browser opened last, if it is still open: a reload, or the class page opened
 * again in the lesson, comes back to it. Else the page offers to open one (which answers with
 * the open class if another tab of the teacher's opened it). */
async function start() {
  try {
    setOptions(await api.options());
  } catch (error) {
    console.warn(error);
  }
  const code = rememberedClass();
  if (code) {
    try {
      const view = await api.getClass(code);
      setView(view);
      streamClass(view.code);
      if (state.projector) setAnonymous(true); // opened in projector mode (#projector=1): no name shows
      return;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) console.warn(error);
    }
  }
  setConnection("closed");
}

async function main() {
  attachStore(state, takeDirty);
  const fromHash = readHash();
  try {
    await setLanguage(initialLanguage(fromHash.lang));
  } catch (error) {
    console.warn(error);
  }
  setLang(currentLanguage());
  languageSelect.value = state.lang;
  languageSelect.addEventListener("change", () => switchLanguage(languageSelect.value));
  setProjector(fromHash.projector);
  byId("projector-toggle").addEventListener("click", () => project(!state.projector));
  document.addEventListener("keydown", onKeyDown);
  const sort = byId("class-sort");
  sort.addEventListener("change", () => setSort(sort.value));
  const needsHelp = byId("class-needs-help");
  needsHelp.addEventListener("change", () => setNeedsHelp(needsHelp.checked));
  window.__classPage = { state }; // the tests' and the benchmark's hook: the store, to read

  registerRenderer({
    name: "class-header",
    mask: DIRTY.view | DIRTY.lang | DIRTY.connection | DIRTY.projector,
    render: renderHeader,
  });
  initControls();
  initGrid();
  initTable();
  initLessonStep().catch((error) => console.warn(error)); // the chooser fills once the lesson files are in
  initScatter();
  initCompare();
  registerRenderer({
    name: "class-plotly",
    mask: DIRTY.view,
    render() {
      if (state.view) loadPlotly(); // after the grid's first drawing: the cards show first
    },
  });
  markDirty(DIRTY.all);
  await start();
}

main();
