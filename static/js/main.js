// Backprop Lab's page: wires the store, the render loop, the session and every view.
//
//   URL ─▶ config ─▶ POST /api/v1/sessions ─▶ WebSocket ─▶ messages.js ─▶ store ─▶ render loop
//                                                   ▲                               │
//   controls / settings / teaching / inspector ─────┘ (client messages)            ▼
//                                              network, flow, boundary, charts, metrics, …

import { api } from "./api.js";
import { initControls } from "./controls.js";
import { initDatasetIo } from "./dataset_io.js";
import { currentLanguage, initialLanguage, setLanguage } from "./i18n.js";
import { attachStore, registerRenderer } from "./loop.js";
import { handleServerMessage } from "./messages.js";
import { initBoundary } from "./render/boundary.js";
import { initCharts } from "./render/charts.js";
import { initFlow } from "./render/flow.js";
import { initGradcheck } from "./render/gradcheck.js";
import { initInspector } from "./render/inspector.js";
import { initMetrics } from "./render/metrics.js";
import { initNarration } from "./render/narration.js";
import { initNetwork } from "./render/network.js";
import { initNotices } from "./render/notices.js";
import { initSoftmax } from "./render/softmax.js";
import { dropConnection, startSession } from "./session.js";
import { changeConfig, initSettings, normaliseOptions } from "./settings.js";
import { DIRTY, markDirty, pushError, store } from "./store.js";
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
    pushError(error.message);
    return;
  }
  if (!applied) return; // a later switch overtook this one and sets the select itself
  store.lang = currentLanguage();
  languageSelect.value = store.lang;
  markDirty(DIRTY.lang);
}

/** A hash edited by hand (or a link followed in the same tab): apply what differs, live. */
function onHashChange() {
  const { config, lang } = readUrl();
  if (lang && lang !== store.lang) switchLanguage(lang);
  const changes = {};
  for (const [key, value] of Object.entries(config)) {
    if (JSON.stringify(value) !== JSON.stringify(store.config?.[key])) changes[key] = value;
  }
  if (Object.keys(changes).length) changeConfig(changes);
}

async function loadOptions() {
  try {
    store.options = normaliseOptions(await api.options());
  } catch (error) {
    store.options = normaliseOptions(null);
    pushError({ key: "error.options", vars: { message: error.message } });
  }
  markDirty(DIRTY.lang | DIRTY.config);
}

async function main() {
  attachStore(store);
  const fromUrl = readUrl();
  try {
    await setLanguage(initialLanguage(fromUrl.lang));
  } catch (error) {
    console.warn(error);
  }
  store.lang = currentLanguage();
  languageSelect.value = store.lang;
  languageSelect.addEventListener("change", () => switchLanguage(languageSelect.value));
  window.addEventListener("hashchange", onHashChange);

  initNotices();
  initControls();
  initSettings();
  initDatasetIo();
  initTeaching();
  initNetwork();
  initFlow();
  initBoundary();
  initMetrics();
  initSoftmax();
  initCharts();
  initInspector();
  initNarration();
  initGradcheck();
  registerRenderer({
    name: "url",
    mask: DIRTY.config | DIRTY.lang,
    render() {
      if (store.config) writeUrl(store.config, store.lang);
    },
  });

  // the page's test and benchmark hook: the store (to read), and a way to simulate a dropped network
  window.__backpropLab = { store, dropConnection };

  await loadOptions();
  for (let attempt = 0; ; attempt++) {
    try {
      await startSession(fromUrl.config, handleServerMessage, pushError);
      return;
    } catch (error) {
      store.connection = "offline";
      markDirty(DIRTY.connection);
      if (attempt === 0) pushError({ key: "error.start", vars: { message: error.message } });
      await new Promise((resolve) => setTimeout(resolve, Math.min(8000, 500 * 2 ** attempt)));
    }
  }
}

main();
