// The classroom (docs/product.md, "Classroom"): the presenter shares the session by a short code
// and sees how many watch; a viewer (a page opened at /watch/{code}) watches read-only and can
// fork a copy to train itself; projector mode for either, kept in the URL.
//
// Clicks call REST (share, fork) and store functions; the renderer below only reads the store.

import { api } from "./api.js";
import { groupedInteger } from "./format.js";
import { has, t } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { explain } from "./refusals.js";
import { DIRTY, pushError, setProjector, setShare, store } from "./store.js";

const byId = (id) => document.getElementById(id);

function datasetLabel(name) {
  if (!name) return "";
  return has(`dataset.${name}`) ? t(`dataset.${name}`) : name;
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
    setShare({ code: shared.code, spoken: shared.spoken, url: shared.url });
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

  registerRenderer({
    name: "classroom",
    mask: DIRTY.classroom | DIRTY.lang | DIRTY.dataset | DIRTY.connection,
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
        if (panel.hidden && byId("share-button").getAttribute("aria-expanded") === "false" && !panel.dataset.shown) {
          panel.dataset.shown = "1"; // opens once, when the code arrives; the button toggles it after
          panel.hidden = false;
          byId("share-button").setAttribute("aria-expanded", "true");
        }
      }
      const watched = byId("watched-dataset");
      if (watched) watched.textContent = store.dataset?.title ?? datasetLabel(store.dataset?.name); // text, never markup
      if (forkButton) forkButton.disabled = store.connection !== "open";
    },
  });
}
