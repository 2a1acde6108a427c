// The classroom (docs/product.md, "Classroom"): the presenter shares the session by a short code
// and sees how many watch; a viewer (a page opened at /watch/{code}) watches read-only and can
// fork a copy to train itself; projector mode for either, kept in the URL.
//
// Clicks call REST (share, fork) and store functions; the renderer below only reads the store.

import { api } from "./api.js";
import { groupedInteger, localNumber } from "./format.js";
import { has, t } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { speedLabel } from "./pace.js";
import { explain } from "./refusals.js";
import { DIRTY, pushError, setProjector, setShare, store, whileRunning } from "./store.js";

const byId = (id) => document.getElementById(id);

function datasetLabel(name) {
  if (!name) return "";
  return has(`dataset.${name}`) ? t(`dataset.${name}`) : name;
}

/** A choice's name in the reader's language ("ReLU", "penurunan gradien (SGD)"). */
function choiceLabel(kind, name) {
  return has(`${kind}.${name}`) ? t(`${kind}.${name}`) : String(name ?? "");
}

/** What a viewer sees of the presenter's settings, each as words in the reader's language. */
function watchedSettings() {
  const config = store.config ?? {};
  const layers = config.hidden_layers ?? [];
  const regularization = config.regularization === "none" || !config.regularization
    ? choiceLabel("regularization", "none")
    : `${choiceLabel("regularization", config.regularization)}, λ = ${localNumber(config.regularization_rate)}`;
  return {
    dataset: store.dataset?.title ?? datasetLabel(store.dataset?.name ?? config.dataset),
    hidden_layers: layers.length
      ? t("classroom.hyper_layers", { count: groupedInteger(layers.length), sizes: layers.map((n) => groupedInteger(n)).join(" · ") })
      : t("classroom.hyper_no_layers"),
    activation: choiceLabel("activation", config.activation),
    learning_rate: localNumber(config.learning_rate),
    batch_size: groupedInteger(config.batch_size),
    optimizer: choiceLabel("optimizer", config.optimizer),
    loss: choiceLabel("loss", config.loss),
    regularization,
    speed: speedLabel(store.speedSetting),
  };
}

function renderWatchedSettings(list) {
  if (!store.config) return;
  const words = watchedSettings();
  for (const item of list.children) {
    const value = item.querySelector("dd");
    const text = words[item.dataset.name] ?? "";
    if (value.textContent !== text) value.textContent = text; // text, never markup (a CSV's name)
  }
}

/** The share panel's word on reachability: a server on 127.0.0.1 (the default) gives an address
 * only this computer opens, and the teacher learns how to start one the class can reach. */
function renderShareReach() {
  const note = byId("share-local");
  const local = store.share?.local_only === true;
  byId("share-panel").classList.toggle("local-only", local);
  const title = byId("share-title"); // "Students open" would promise what the address cannot do
  title.dataset.i18n = local ? "classroom.share_title_local" : "classroom.share_title";
  if (title.textContent !== t(title.dataset.i18n)) title.textContent = t(title.dataset.i18n);
  note.hidden = !local;
  if (!local) return;
  const text = t("classroom.local_only", { host: new URL(store.share.url).host, port: window.location.port || "80" });
  if (note.textContent !== text) note.textContent = text;
}

async function share() {
  const button = byId("share-button");
  if (store.share) {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    byId("share-panel").hidden = !open;
    return;
  }
  if (!store.sessionId) return;
  try {
    const shared = await api.share(store.sessionId);
    setShare({ code: shared.code, spoken: shared.spoken, url: shared.url, local_only: shared.local_only });
  } catch (error) {
    pushError({ key: "error.share", vars: { message: () => explain(error) } });
  }
}

/** "Try it yourself": a session of our own in the watched one's state, opened on the main page. */
async function fork(button) {
  button.disabled = true;
  try {
    const created = await api.fork(store.share.code);
    // the new session's id goes in the query (main.js opens it, then drops it from the URL)
    window.location.assign(`/?session=${encodeURIComponent(created.id)}${window.location.hash}`);
  } catch (error) {
    button.disabled = false;
    pushError({ key: "error.fork", vars: { message: () => explain(error) } });
  }
}

function onKeyDown(event) {
  const target = event.target;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(target?.tagName) || target?.isContentEditable) return;
  if (event.key === "p" || event.key === "P") {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    setProjector(!store.projector);
  }
}

export function initClassroom() {
  byId("projector-toggle").addEventListener("click", () => setProjector(!store.projector));
  document.addEventListener("keydown", onKeyDown);
  byId("share-button")?.addEventListener("click", share);
  const forkButton = byId("fork-button");
  forkButton?.addEventListener("click", () => fork(forkButton));

  const watched = byId("watched-hyper"); // a viewer's page: the presenter's settings, live
  if (watched) {
    registerRenderer({
      name: "watched-settings",
      mask: DIRTY.config | DIRTY.dataset | DIRTY.lang | DIRTY.state,
      interval: whileRunning(250), // the speed comes with state changes, which frames also mark
      urgent: DIRTY.config | DIRTY.dataset | DIRTY.lang,
      render: () => renderWatchedSettings(watched),
    });
  }
  registerRenderer({
    name: "classroom",
    mask: DIRTY.classroom | DIRTY.lang | DIRTY.connection,
    render() {
      document.documentElement.classList.toggle("projector", store.projector); // rem-based sizes scale too
      byId("projector-toggle").setAttribute("aria-pressed", String(store.projector));
      const panel = byId("share-panel");
      if (panel && !store.share && panel.dataset.shown) {
        delete panel.dataset.shown; // the shared session is gone: Share makes a new code
        panel.hidden = true;
        byId("share-button").setAttribute("aria-expanded", "false");
      }
      if (panel && store.share) {
        const link = byId("share-url");
        link.href = store.share.url;
        link.textContent = store.share.url; // text, never markup
        byId("share-code").textContent = store.share.spoken;
        byId("viewer-count").textContent = t("classroom.viewers", { count: groupedInteger(store.viewers, store.lang) });
        renderShareReach();
        byId("class-page-link").hidden = store.identity.role !== "teacher"; // /class is the teacher's alone
        if (panel.hidden && byId("share-button").getAttribute("aria-expanded") === "false" && !panel.dataset.shown) {
          panel.dataset.shown = "1"; // opens once, when the code arrives; the button toggles it after
          panel.hidden = false;
          byId("share-button").setAttribute("aria-expanded", "true");
        }
      }
      if (forkButton) forkButton.disabled = store.connection !== "open";
      if (store.role === "viewer" && store.share) {
        const title = t("classroom.page_title", { code: store.share.spoken });
        if (document.title !== title) document.title = title; // the tab says what it watches, in the reader's language
      }
    },
  });
}
