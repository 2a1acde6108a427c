// What the learning rate is doing to the training, in plain words, when it has not (yet) made
// anything non-finite (the divergence banner says that): the loss thrown far above the lowest it
// had reached (every step overshoots the valley; η = 1000 on the default classifier sits at
// ~160 with tanh, ~714 with ReLU), the loss going up and down, or the hidden neurons saturated
// (tanh, sigmoid) or dead (ReLU). The loss comes from the curve the page already has (whole-split
// losses), the neurons from the frames' `neurons` (the server counts them with the engine's own
// f′(z), `server/analyses/readouts.py`); the page only compares. Any loss: the tests are ratios.

import { onServerMessage } from "../messages.js";
import { plainNumber, readableNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { DIRTY, markDirty, store } from "../store.js";

const RISE = 3; // the loss above 3× the lowest it had reached: overshooting
const WINDOW = 20; // the last points of the loss curve looked at for a zigzag
// A zigzag: at least TURNS of the window's points turn (up after down, or down after up) and its
// highest is ZIGZAG_RATIO × its lowest. Measured on 200 × 20 steps: never on the defaults, nor
// on xor, spiral, iris, multi_gaussian or plane (mse) at η 0.03; plane at η = 1 and circle at
// η = 1 or 3 in most windows; circle with batches of 1 in 52 of 181 (stochastic noise that a
// smaller rate or a larger batch does settle, which the words say).
const TURNS = 0.4;
const ZIGZAG_RATIO = 3;
const STOPPED_SHARE = 0.5; // at least half of the hidden neurons stopped learning

let neurons = null; // the last frame's {hidden, stopped, kind}
let shown = "";

const banner = document.createElement("div");
banner.className = "banner warning rate-notice";
banner.dataset.testid = "rate-notice";
banner.setAttribute("role", "status");
banner.hidden = true;

/** Finite values of the loss curve, oldest first (a diverged point is null). */
function finiteLosses() {
  return store.history.train.filter((value) => Number.isFinite(value));
}

function zigzag(losses) {
  const recent = losses.slice(-WINDOW);
  if (recent.length < WINDOW) return null;
  let turns = 0;
  for (let k = 2; k < recent.length; k++) {
    if ((recent[k] - recent[k - 1]) * (recent[k - 1] - recent[k - 2]) < 0) turns++;
  }
  const low = Math.min(...recent);
  const high = Math.max(...recent);
  if (turns < TURNS * (recent.length - 2) || !(high >= ZIGZAG_RATIO * low)) return null;
  return { low, high, n: recent.length };
}

/** The notices that apply now: [{key, vars}], empty when training looks healthy. */
export function rateNotices() {
  if (!store.config || store.state === "diverged") return [];
  const notices = [];
  const rate = readableNumber(store.config.learning_rate);
  const losses = finiteLosses();
  const loss = store.metrics?.train_loss;
  if (losses.length >= 2 && Number.isFinite(loss)) {
    const lowest = Math.min(...losses);
    const swing = zigzag(losses);
    // a zigzag says more than its highest point: it is named first
    if (swing) {
      const batch = readableNumber(Math.min(store.config.batch_size, store.dataset?.train?.points?.length ?? Infinity));
      notices.push({ key: "rate.oscillating", vars: { low: plainNumber(swing.low), high: plainNumber(swing.high), n: swing.n, rate, batch } });
    } else if (loss > RISE * lowest) {
      notices.push({ key: "rate.blown", vars: { loss: plainNumber(loss), lowest: plainNumber(lowest), rate } });
    }
  }
  if (neurons?.kind && neurons.stopped > 0 && neurons.stopped >= STOPPED_SHARE * neurons.hidden) {
    notices.push({ key: `rate.${neurons.kind}`, vars: { stopped: neurons.stopped, hidden: neurons.hidden, rate } });
  }
  return notices;
}

function render() {
  const notices = rateNotices();
  const key = JSON.stringify([store.lang, notices]);
  if (key === shown) return;
  shown = key;
  banner.dataset.kinds = notices.map((notice) => notice.key.slice("rate.".length)).join(" ");
  banner.replaceChildren(...notices.map((notice) => {
    const paragraph = document.createElement("p");
    paragraph.textContent = t(notice.key, notice.vars);
    return paragraph;
  }));
  banner.hidden = notices.length === 0;
}

export function initRateNotice() {
  document.getElementById("divergence-banner").after(banner);
  onServerMessage("frame", (frame) => {
    if (frame.neurons !== undefined) neurons = frame.neurons;
  });
  onServerMessage("snapshot", () => {
    neurons = null; // a new network: its neurons are counted with its first frame
    markDirty(DIRTY.notices);
  });
  registerRenderer({ name: "rate-notice", mask: DIRTY.metrics | DIRTY.history | DIRTY.state | DIRTY.lang | DIRTY.config | DIRTY.notices, render });
}
