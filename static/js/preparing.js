// The preparing page (templates/preparing.html): shown at every page address while a first start
// compiles the engine's kernels. It asks /api/v1/health how far the compile is, moves the bar,
// says how long is left (from the last cold start on this computer, when there was one) and
// reloads into the page asked for as soon as health answers 200. A failed preparation is shown
// and the polling stops: waiting would not help.

import { addressLanguage, setLanguage, t } from "./i18n.js";

const POLL_MS = 500;

const bar = document.getElementById("preparing-bar");
const count = document.getElementById("preparing-count");
const estimate = document.getElementById("preparing-estimate");
const failed = document.getElementById("preparing-failed");
const main = document.querySelector("main.preparing");

let latest = null; // the last progress health reported: redrawn when the language arrives

function draw(params) {
  latest = params;
  bar.max = params.kernels_total;
  bar.value = params.kernels_done;
  count.textContent = t("preparing.count", { done: params.kernels_done, total: params.kernels_total });
  const left = params.seconds_left;
  if (left === null) estimate.textContent = t("preparing.no_estimate");
  else if (left > 0) estimate.textContent = t("preparing.left", { seconds: Math.ceil(left) });
  else estimate.textContent = t("preparing.longer");
}

function showFailure(error) {
  main.dataset.stage = "failed";
  failed.dataset.error = error;
  failed.textContent = t("preparing.failed", { error });
  failed.hidden = false;
}

async function poll() {
  let response;
  try {
    response = await fetch("/api/v1/health", { cache: "no-store" });
  } catch {
    setTimeout(poll, POLL_MS); // the server is not listening (restarting): keep asking
    return;
  }
  if (response.ok) {
    window.location.reload(); // ready: the same address now serves the lab
    return;
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not the lab's answer (a proxy's page): ask again
  }
  if (body?.code === "engine_failed") {
    showFailure(body.params.error);
    return;
  }
  if (body?.code === "engine_preparing") draw(body.params);
  setTimeout(poll, POLL_MS);
}

async function translate() {
  try {
    await setLanguage(addressLanguage());
  } catch (error) {
    console.warn(error);
  }
  if (latest) draw(latest);
  if (!failed.hidden) showFailure(failed.dataset.error);
}

if (main.dataset.stage === "failed") {
  translate();
} else {
  poll();
  translate();
}
