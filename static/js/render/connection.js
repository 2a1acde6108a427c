// The connection in plain words, beside the small badge (notices.js): a banner while the server
// does not answer (nothing trains; the page tries again by itself), and a notice after the server
// no longer had this page's session (a restart, an expiry), which says that a new network took its
// place at step 0, at the same pace, and that it waits for Play; or that another server of a
// cluster went on with it from its last checkpoint (the step it continues from). See session.js.

import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { speedLabel } from "../pace.js";
import { DIRTY, setConnectionNotice, store } from "../store.js";

const offline = document.getElementById("offline-banner");
const replaced = document.getElementById("replaced-notice");
const replacedText = document.getElementById("replaced-text");
const dismiss = document.getElementById("replaced-dismiss");

function show(element, text, textElement = element) {
  if (textElement.textContent !== text) textElement.textContent = text;
  if (element.hidden) element.hidden = false;
}

function hide(element) {
  if (!element.hidden) element.hidden = true;
}

function render() {
  if (store.connection === "offline") show(offline, t("connection.offline_banner", { address: window.location.host }));
  else hide(offline);
  const notice = store.connectionNotice;
  if (notice?.kind === "replaced" && store.role !== "viewer") {
    const words = t("connection.replaced", { speed: speedLabel(store.speedSetting) });
    show(replaced, notice.shared ? `${words} ${t("connection.replaced_shared")}` : words, replacedText);
  } else if (notice?.kind === "moved" && store.role !== "viewer") {
    show(replaced, t("connection.moved", { step: notice.step }), replacedText);
  } else {
    hide(replaced);
  }
}

export function initConnectionNotices() {
  dismiss.addEventListener("click", () => setConnectionNotice(null));
  registerRenderer({ name: "connection", mask: DIRTY.connection | DIRTY.state | DIRTY.lang, render });
}
