// The gradient check panel (docs/product.md, idea 7): the whole network's gradient by
// backpropagation against central finite differences. Shows the largest relative error, how many forward passes each
// method needed (2P against one forward and one backward pass), both times and their ratio, and
// what that ratio means for a network with a million weights.

import { runGradientCheck } from "../checks.js";
import { duration, groupedInteger, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { explain } from "../refusals.js";
import { registerRenderer } from "../loop.js";
import { DIRTY, store } from "../store.js";

const button = document.getElementById("gradient-check-button");
const result = document.getElementById("gradient-check-result");

function row(label, value, name, raw) {
  const term = document.createElement("dt");
  term.textContent = label;
  const definition = document.createElement("dd");
  definition.textContent = value;
  definition.dataset.name = name;
  if (raw !== undefined) definition.dataset.value = String(raw);
  return [term, definition];
}

function render() {
  const check = store.gradientCheck;
  button.disabled = check?.status === "running";
  if (!check) {
    result.replaceChildren();
    return;
  }
  if (check.status === "running") {
    result.textContent = t("gradcheck.running");
    return;
  }
  if (check.status === "error") {
    result.textContent = t("gradcheck.failed", { message: explain(check.error) });
    result.classList.add("error");
    return;
  }
  result.classList.remove("error");
  const r = check.result;
  const lang = store.lang;
  const ratio = r.numerical_seconds / Math.max(r.backprop_seconds, 1e-9);
  const agree = r.max_relative_error < 1e-5;
  const list = document.createElement("dl");
  list.className = "gradcheck-list";
  list.append(
    ...row(t("gradcheck.error"), shortNumber(r.max_relative_error, 3), "max-relative-error", r.max_relative_error),
    ...row(t("gradcheck.parameters"), groupedInteger(r.parameters, lang), "parameters", r.parameters),
    ...row(t("gradcheck.numerical_passes"), groupedInteger(r.numerical_forward_passes, lang), "numerical-passes", r.numerical_forward_passes),
    ...row(t("gradcheck.backprop_passes"), t("gradcheck.backprop_passes_value"), "backprop-passes", 2),
    ...row(t("gradcheck.numerical_time"), duration(r.numerical_seconds), "numerical-seconds", r.numerical_seconds),
    ...row(t("gradcheck.backprop_time"), duration(r.backprop_seconds), "backprop-seconds", r.backprop_seconds),
    ...row(t("gradcheck.ratio"), `${shortNumber(ratio, 3)} ×`, "ratio", ratio),
  );
  const when = document.createElement("p");
  when.className = "note";
  when.textContent = t("gradcheck.at_step", { step: groupedInteger(check.step, lang) });
  const verdict = document.createElement("p");
  verdict.className = agree ? "verdict good" : "verdict bad";
  verdict.textContent = t(agree ? "gradcheck.agree" : "gradcheck.disagree");
  const million = document.createElement("p");
  million.className = "million";
  million.textContent = t("gradcheck.million", {
    passes: groupedInteger(2_000_000, lang),
    weights: groupedInteger(1_000_000, lang),
    mine: groupedInteger(r.numerical_forward_passes, lang),
  });
  result.replaceChildren(when, verdict, list, million);
}

export function initGradcheck() {
  button.addEventListener("click", runGradientCheck);
  registerRenderer({ name: "gradcheck", mask: DIRTY.checks | DIRTY.lang, render });
}
