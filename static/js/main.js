// Backprop Lab's page: wires the store, the render loop, the session and every view.
//
//   GET /api/v1/options ─▶ store (every name, formula and range the page shows)
//   URL ─▶ config ─▶ POST /api/v1/sessions ─▶ WebSocket ─▶ messages.js ─▶ store ─▶ render loop
//                                                   ▲                               │
//   controls / settings / teaching / inspector ─────┘ (client messages)            ▼
//                                              network, flow, boundary, charts, surface, …

import { initClassNote } from "./class_note.js";
import { initClassroom } from "./classroom.js";
import { initControls } from "./controls.js";
import { initDatasetIo } from "./dataset_io.js";
import { initDrawPoints } from "./draw_points.js";
import { currentLanguage, initialLanguage, LANGUAGE_NAMES, setLanguage } from "./i18n.js";
import { initLayout } from "./layout.js";
import { initClassStep } from "./lessons/class_step.js";
import { initLessonPanel } from "./lessons/panel.js";
import { initSharedStep } from "./lessons/shared_step.js";
import { initLinkBuilder } from "./link_builder.js";
import { hiddenPanels, hidePanels, initLinkNote, noteIgnored, paceAccepted } from "./link_params.js";
import { attachStore, registerRenderer } from "./loop.js";
import { initLrLab } from "./lr_lab.js";
import { handleServerMessage } from "./messages.js";
import { initPngExport } from "./png_export.js";
import { initBoundary } from "./render/boundary.js";
import { initCharts } from "./render/charts.js";
import { initConnectionNotices } from "./render/connection.js";
import { initFlow } from "./render/flow.js";
import { initGradcheck } from "./render/gradcheck.js";
import { initInspector } from "./render/inspector.js";
import { initLrLabView } from "./render/lr_lab.js";
import { initMetrics } from "./render/metrics.js";
import { initNarration } from "./render/narration.js";
import { initNetwork } from "./render/network.js";
import { initNotices } from "./render/notices.js";
import { initReplayBar } from "./render/replay_bar.js";
import { initRunsPanel } from "./render/runs_panel.js";
import { initSoftmax } from "./render/softmax.js";
import { initSurface } from "./render/surface.js";
import { dropConnection, loadOptions, startSession, watchSession } from "./session.js";
import { changeConfig, initSettings } from "./settings.js";
import {
  DIRTY, markDirty, pushError, setLang, setProjector, setRole, setShare, store, takeDirty,
} from "./store.js";
import { initSurfaceRequests } from "./surface.js";
import { rememberPace } from "./pace.js";
import { initTeaching } from "./teaching.js";
import { readUrl, writeUrl } from "./url_state.js";

const languageSelect = document.getElementById("language-select");

/** Switches the page's language. The select always ends showing the language the page is
 * in: if the translations cannot load, it goes back to the current one. */
async function switchLanguage(lang) {
  let applied;
  try {
    applied = await setLanguage(lang);
  } catch (error) {
    languageSelect.value = currentLanguage();
    console.warn(error.message);
    pushError({ key: "error.translations", vars: { language: LANGUAGE_NAMES[lang] ?? lang } });
    return;
  }
  if (!applied) return; // a later switch overtook this one and sets the select itself
  setLang(currentLanguage());
  languageSelect.value = store.lang;
}

/** A hash edited by hand (or a link followed in the same tab): apply what differs, live. */
function onHashChange() {
  const { config, lang, projector, hide, ignored } = readUrl();
  if (lang && lang !== store.lang) switchLanguage(lang);
  setProjector(projector);
  hidePanels(hide);
  if (ignored.length) noteIgnored(ignored);
  if (store.role === "viewer") return; // a viewer follows the presenter's config
  const changes = {};
  for (const [key, value] of Object.entries(config)) {
    if (JSON.stringify(value) !== JSON.stringify(store.config?.[key])) changes[key] = value;
  }
  if (Object.keys(changes).length) changeConfig(changes);
}

/** A lesson link's pace becomes the page's chosen pace (session.js asks for it after the hello);
 * a viewer follows the presenter's. Says which of the link's parameters the page ignored. */
function applyLinkPace({ pace, ignored }) {
  const skipped = [...ignored];
  if (pace !== undefined) {
    if (store.role !== "viewer" && paceAccepted(pace)) rememberPace(pace);
    else skipped.push(`pace=${pace}`);
  }
  if (skipped.length) noteIgnored(skipped);
}

async function main() {
  attachStore(store, takeDirty);
  initLayout(); // the Data panel folded in a short room before the translations and options load
  const fromUrl = readUrl();
  const watchedCode = document.body.dataset.shareCode; // a viewer's page: /watch/{code}
  if (watchedCode) {
    setRole("viewer");
    setShare({ code: watchedCode, spoken: document.getElementById("watched-code").textContent });
  }
  setProjector(fromUrl.projector);
  hidePanels(fromUrl.hide); // a lesson link's hidden panels, before anything is drawn in them
  // a forked session handed over by a viewer's page (classroom.js): open it, keep its id out of the URL
  const query = new URLSearchParams(window.location.search);
  const existing = query.get("session");
  if (existing) history.replaceState(null, "", window.location.pathname + window.location.hash);
  try {
    await setLanguage(initialLanguage(fromUrl.lang));
  } catch (error) {
    console.warn(error);
  }
  setLang(currentLanguage());
  languageSelect.value = store.lang;
  languageSelect.addEventListener("change", () => switchLanguage(languageSelect.value));
  window.addEventListener("hashchange", onHashChange);

  // the page's test and benchmark hook: the store (to read), and a way to simulate a dropped network
  window.__backpropLab = { store, dropConnection };

  // the badge and error messages first: they say why the page waits if the server does not answer
  initNotices();
  initConnectionNotices();
  initLinkNote();
  await loadOptions(); // every name, formula and range the forms and views show
  applyLinkPace(fromUrl);
  initControls();
  initSettings();
  initDatasetIo();
  initTeaching();
  initNetwork();
  initFlow();
  initBoundary();
  initDrawPoints();
  initMetrics();
  initSoftmax();
  initCharts();
  initInspector();
  initNarration();
  initGradcheck();
  initLrLab();
  initLrLabView();
  initRunsPanel();
  initReplayBar();
  initPngExport();
  initClassroom();
  initClassNote();
  initLinkBuilder();
  initSurface();
  initSurfaceRequests(document.getElementById("loss-surface-view"));
  const lessonPage = await initLessonPanel(); // a lesson step's page: its text, task and network
  initClassStep(lessonPage); // a class leads it
  initSharedStep(lessonPage); // a viewer follows it
  registerRenderer({
    name: "url",
    mask: DIRTY.config | DIRTY.lang | DIRTY.classroom,
    render() {
      if (store.config) writeUrl(store.config, store.lang, store.projector, hiddenPanels());
    },
  });
  markDirty(DIRTY.all); // the first render of every view, now that the options are in

  // the session and its socket: session.js retries (and says so) until the server answers
  if (watchedCode) watchSession(watchedCode, handleServerMessage);
  else await startSession(fromUrl.config, handleServerMessage, pushError, existing);
}

main();
