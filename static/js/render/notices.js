// What the page tells the user outside the diagrams: the connection badge, the divergence
// message (which says why: the learning rate, the step, and what to do), and error toasts for
// anything the server or the page refused. Nothing fails silently.

import { groupedInteger, localNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { DIRTY, dismissError, ERROR_MS, markDirty, store } from "../store.js";

const badge = document.getElementById("connection-status");
const banner = document.getElementById("divergence-banner");
const toasts = document.getElementById("toasts");

let shownErrors = [];
let shownLang = null;
let expiryTimer = null;

function errorText(error) {
  const message = error.message;
  return typeof message === "string" ? message : t(message.key, message.vars);
}

function renderBadge() {
  const text = t(`connection.${store.connection}`);
  if (badge.dataset.status !== store.connection) badge.dataset.status = store.connection;
  if (badge.textContent !== text) badge.textContent = text;
}

function renderDivergence() {
  const diverged = store.diverged;
  if (!diverged || store.state !== "diverged") {
    if (!banner.hidden) banner.hidden = true;
    return;
  }
  const key = diverged.cause === "weights" ? "notice.diverged_weights" : "notice.diverged_loss";
  const text = t(key, { rate: localNumber(diverged.learning_rate ?? store.config?.learning_rate), step: groupedInteger(diverged.step) });
  if (banner.textContent !== text) banner.textContent = text;
  banner.hidden = false;
}

function renderToasts(now) {
  if (store.errors.length === 0 && shownErrors.length === 0) return;
  const showing = store.errors.filter((error) => now - error.time < ERROR_MS); // expired ones stay unread
  const changed = showing.length !== shownErrors.length || showing.some((error, index) => error !== shownErrors[index]);
  if (changed || shownLang !== store.lang) {
    toasts.replaceChildren(
      ...showing.map((error) => {
        const item = document.createElement("div");
        item.className = "toast";
        item.textContent = errorText(error);
        const close = document.createElement("button");
        close.type = "button";
        close.className = "mini";
        close.textContent = "×";
        close.setAttribute("aria-label", t("notice.dismiss"));
        close.addEventListener("click", () => dismissError(error));
        item.append(close);
        return item;
      }),
    );
    shownErrors = showing;
    shownLang = store.lang;
  }
  clearTimeout(expiryTimer);
  if (showing.length) {
    const oldest = Math.min(...showing.map((error) => error.time));
    expiryTimer = setTimeout(() => markDirty(DIRTY.notices), Math.max(50, ERROR_MS - (performance.now() - oldest)));
  }
}

export function initNotices() {
  registerRenderer({
    name: "notices",
    mask: DIRTY.connection | DIRTY.notices | DIRTY.lang | DIRTY.state,
    render(flags, now) {
      renderBadge();
      renderDivergence();
      renderToasts(now);
    },
  });
}
