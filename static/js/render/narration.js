// Teaching mode's narration: what the phase just run did, in words and with the engine's numbers
// for the chosen sample (and the batch where the step uses the batch), in the reader's language.

import { fixedNumber, groupedInteger, listSeparator, localNumber, mathText, shortNumber } from "../format.js";
import { t } from "../i18n.js";
import { registerRenderer } from "../loop.js";
import { formulas } from "../options.js";
import { DIRTY, store } from "../store.js";
import { phaseName } from "../teaching.js";

const box = document.getElementById("narration");
const MAX_LISTED = 6; // neurons listed by value; more are summarised

function list(values) {
  const shown = Array.from(values.slice(0, MAX_LISTED), (value) => shortNumber(value));
  if (values.length > MAX_LISTED) shown.push("…");
  return `[${shown.join(listSeparator())}]`;
}

function paragraph(text, className) {
  const p = document.createElement("p");
  if (className) p.className = className;
  p.textContent = text;
  return p;
}

/** A layer as a sentence names it: "hidden layer 1", "the output layer" (never the chips' "H1"). */
function layerName(layer, depth) {
  return layer === depth - 1 ? t("network.layer_output") : t("network.layer_hidden", { n: layer + 1 });
}

function describe(phase, probe, depth) {
  const texts = [];
  const batch = phase.batch_indices?.length ?? 0;
  const sample = { split: t(`teach.split_${probe.split}`), index: groupedInteger(probe.index) };
  switch (phase.kind) {
    case "forward": {
      const layer = probe.layers[phase.layer];
      const output = phase.layer === depth - 1;
      const activation = t(`activation.${store.network.activation}`);
      texts.push(t(output ? "narrate.forward_output" : "narrate.forward", { layer: layerName(phase.layer, depth), activation }));
      texts.push(t("narrate.forward_values", { ...sample, z: list(layer.pre_activations), a: list(layer.activations) }));
      if (output && store.network.output === "softmax") {
        const sum = layer.activations.reduce((total, p) => total + p, 0);
        texts.push(t("narrate.softmax_sum", { sum: fixedNumber(sum, 6) }));
      }
      break;
    }
    case "loss": {
      const loss = store.config?.loss;
      const formula = mathText(formulas().losses?.[loss]?.formula);
      texts.push(t(loss === "cross_entropy" ? "narrate.loss_ce" : "narrate.loss_mse", { formula }));
      texts.push(t("narrate.loss_values", { ...sample, y: list(probe.targets), yhat: list(probe.outputs ?? probe.layers[depth - 1].activations), loss: shortNumber(probe.loss, 4) }));
      if (phase.values?.loss !== undefined) {
        texts.push(t("narrate.loss_batch", { n: groupedInteger(batch), loss: shortNumber(phase.values.loss, 4), objective: shortNumber(phase.values.objective, 4) }));
      }
      texts.push(t("narrate.loss_names"));
      break;
    }
    case "backward": {
      const layer = probe.layers[phase.layer];
      const output = phase.layer === depth - 1;
      const delta = mathText(formulas().losses?.[store.config?.loss]?.delta?.[store.network.output]);
      texts.push(t(output ? "narrate.backward_output" : "narrate.backward", { layer: layerName(phase.layer, depth), delta }));
      texts.push(t("narrate.backward_values", { ...sample, delta: list(layer.deltas) }));
      texts.push(t("narrate.backward_batch", { n: groupedInteger(batch) }));
      break;
    }
    case "update": {
      let largest = 0;
      for (const layer of phase.values?.weight_updates ?? []) for (const row of layer) for (const value of row) largest = Math.max(largest, Math.abs(value));
      const rule = mathText(formulas().optimizers?.[store.config?.optimizer]);
      texts.push(t("narrate.update", { rate: localNumber(store.config?.learning_rate), optimizer: t(`optimizer.${store.config?.optimizer}`), rule }));
      texts.push(t("narrate.update_values", { largest: shortNumber(largest), step: groupedInteger(store.step) }));
      break;
    }
    default:
  }
  return texts;
}

let shownPhase;
let shownLang = "";

function render() {
  const last = store.teaching.last;
  const probe = store.probe;
  if (last === shownPhase && store.lang === shownLang && last) return; // animation frames: nothing new to say
  shownPhase = last;
  shownLang = store.lang;
  const depth = store.network ? store.network.layer_sizes.length - 1 : 0;
  if (!last || !probe || probe.layers.length !== depth) {
    box.replaceChildren(paragraph(t("narrate.intro"), "hint"));
    return;
  }
  const heading = document.createElement("h3");
  heading.textContent = `${last.index + 1}/${last.total} · ${phaseName(last.kind, last.layer, depth, true)}`;
  box.replaceChildren(heading, ...describe(last, probe, depth).map((text) => paragraph(text)));
}

export function initNarration() {
  registerRenderer({ name: "narration", mask: DIRTY.teaching | DIRTY.lang | DIRTY.network, render });
}
