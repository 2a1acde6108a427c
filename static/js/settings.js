// The hyperparameter forms (docs/product.md, Features): data set, noise, training share,
// samples, seed, input features, learning rate, activation, loss, optimiser, momentum, batch
// size, regularisation and its rate, initialisation, and the architecture (hidden layers and
// neurons).
//
// Every control sends a `config` message with just what changed; the server answers with the
// full config (or an error naming the field) and the store reflects it back into the forms.
// Changes are live: the server keeps training, re-initialising only for data or architecture.
// What the forms offer (names, feature formulas, every min, max, step and preset) is the
// server's options (options.js); nothing here keeps its own copy.

import { groupedInteger, localNumber, parseLocalNumber, readableNumber } from "./format.js";
import { t, has } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { onServerMessage } from "./messages.js";
import { acceptable, controlBounds, featureFormula, isRegressionSet, optionNames, uiRange } from "./options.js";
import { send } from "./session.js";
import { addUpload, DIRTY, markDirty, pushError, store } from "./store.js";

const $ = (id) => document.getElementById(id);
const controls = {
  dataset: $("dataset"),
  noise: $("noise"),
  noiseValue: $("noise-value"),
  trainRatio: $("train-ratio"),
  trainRatioValue: $("train-ratio-value"),
  samples: $("samples"),
  seed: $("seed"),
  featureList: $("feature-list"),
  learningRate: $("learning-rate"),
  learningRatePresets: $("learning-rate-presets"),
  activation: $("activation"),
  loss: $("loss"),
  optimizer: $("optimizer"),
  momentum: $("momentum"),
  momentumField: $("momentum-field"),
  batchSize: $("batch-size"),
  batchMode: $("batch-mode"),
  regularization: $("regularization"),
  regularizationRate: $("regularization-rate"),
  regularizationPresets: $("regularization-presets"),
  init: $("init"),
  layerCount: $("layer-count"),
  linearNotice: $("linear-notice"),
};

// What the option lists were last built from: rebuilt when the options, uploads or language change.
let builtFor = { options: null, uploads: null, lang: null };

// --- options --------------------------------------------------------------------------------

function label(prefix, name) {
  const key = `${prefix}.${name}`;
  return has(key) ? t(key) : name;
}

function fillSelect(select, values, prefix) {
  const previous = select.value;
  select.replaceChildren(
    ...values.map((value) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = typeof prefix === "function" ? prefix(value) : label(prefix, value);
      return option;
    }),
  );
  if (values.includes(previous)) select.value = previous;
}

function fillPresets(datalist, presets) {
  datalist.replaceChildren(
    ...(presets ?? []).map((value) => {
      const option = document.createElement("option");
      option.value = localNumber(value);
      return option;
    }),
  );
}

/** An attribute from a range bound (removed when the bound is open), scaled for percent sliders. */
function setBound(input, attribute, value, scale = 1) {
  if (value === null || value === undefined) input.removeAttribute(attribute);
  else input.setAttribute(attribute, String(Math.round(value * scale * 1e9) / 1e9));
}

/** Every control's min, max and step from the options' ranges (what the UI offers). */
function applyRanges() {
  const numberInputs = [
    [controls.learningRate, "learning_rate"],
    [controls.momentum, "momentum"],
    [controls.batchSize, "batch_size"],
    [controls.regularizationRate, "regularization_rate"],
    [controls.samples, "samples"],
    [controls.seed, "seed"],
  ];
  for (const [input, field] of numberInputs) {
    const ui = uiRange(field);
    setBound(input, "min", ui.min);
    setBound(input, "max", ui.max);
    input.setAttribute("step", ui.step === null || ui.step === undefined ? "any" : String(ui.step));
  }
  for (const [input, field] of [
    [controls.noise, "noise"],
    [controls.trainRatio, "train_ratio"],
  ]) {
    const ui = uiRange(field); // fractions; the sliders show percent
    setBound(input, "min", ui.min, 100);
    setBound(input, "max", ui.max, 100);
    setBound(input, "step", ui.step, 100);
  }
  fillPresets(controls.learningRatePresets, uiRange("learning_rate").presets);
  fillPresets(controls.regularizationPresets, uiRange("regularization_rate").presets);
}

function buildOptionLists() {
  const options = store.options;
  if (!options) return;
  const builtIn = optionNames("datasets");
  const uploads = store.uploads;
  const datasets = [...builtIn, ...Object.keys(uploads).filter((id) => !builtIn.includes(id))];
  const current = store.config?.dataset;
  if (current && !datasets.includes(current)) datasets.push(current); // an uploaded set named by a link
  fillSelect(controls.dataset, datasets, (name) =>
    uploads[name] ? t("dataset.uploaded", { name: uploads[name].name }) : label("dataset", name),
  );
  fillSelect(controls.activation, optionNames("activations"), "activation");
  fillSelect(controls.loss, optionNames("losses"), "loss");
  fillSelect(controls.optimizer, optionNames("optimizers"), "optimizer");
  fillSelect(controls.regularization, optionNames("regularizations"), "regularization");
  fillSelect(controls.init, optionNames("inits"), "init");
  applyRanges();
  buildFeatureToggles();
  builtFor = { options, uploads, lang: store.lang };
}

function buildFeatureToggles() {
  controls.featureList.replaceChildren(
    ...optionNames("features").map((name) => {
      const wrapper = document.createElement("label");
      wrapper.className = "feature-toggle";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      box.addEventListener("change", onFeatureToggle);
      const text = document.createElement("span");
      text.textContent = featureFormula(name);
      text.setAttribute("aria-label", label("feature", name));
      wrapper.append(box, text);
      return wrapper;
    }),
  );
}

// --- sending changes ----------------------------------------------------------------------

/** Sends a partial config; the server's `config` (or `error`) reply updates the forms. */
export function changeConfig(changes) {
  if (send({ type: "config", changes }) === null) {
    pushError({ key: "error.not_connected" });
    markDirty(DIRTY.config); // put the forms back
  }
}

/** A refused entry: the field marked, and a message naming the range the control accepts. */
function invalid(input, messageKey, field) {
  input.setAttribute("aria-invalid", "true");
  const bounds = controlBounds(field) ?? {};
  pushError({ key: messageKey, vars: { min: () => readableNumber(bounds.min), max: () => readableNumber(bounds.max) } });
  markDirty(DIRTY.config);
}

/** The number typed into `input` if `field`'s control accepts it, else null. Decimal fields are
 * text fields: they take "0,03" and "0.03" in Indonesian, "0.03" in English (format.js). */
function numberFrom(input, field) {
  const value = parseLocalNumber(input.value);
  if (!acceptable(field, value)) return null;
  input.removeAttribute("aria-invalid");
  return value;
}

function onFeatureToggle() {
  const chosen = [...controls.featureList.querySelectorAll("input:checked")].map((box) => box.value);
  if (chosen.length === 0) {
    pushError({ key: "error.one_feature" });
    markDirty(DIRTY.config);
    return;
  }
  changeConfig({ features: chosen });
}

export function setHiddenLayers(layers) {
  changeConfig({ hidden_layers: layers });
}

export function addLayer() {
  const layers = [...(store.config?.hidden_layers ?? [])];
  if (layers.length >= uiRange("hidden_layers").max) return;
  layers.push(layers.length ? layers[layers.length - 1] : 2);
  setHiddenLayers(layers);
}

export function removeLayer() {
  const layers = [...(store.config?.hidden_layers ?? [])];
  if (layers.length <= uiRange("hidden_layers").min) return;
  layers.pop();
  setHiddenLayers(layers);
}

export function changeNeurons(layerIndex, delta) {
  const layers = [...(store.config?.hidden_layers ?? [])];
  const next = layers[layerIndex] + delta;
  const neurons = uiRange("neurons");
  if (next < neurons.min || next > neurons.max) return;
  layers[layerIndex] = next;
  setHiddenLayers(layers);
}

/** The batch size a preset chip stands for: 1 (SGD), the default mini-batch, or the whole split. */
function chipSize(chip) {
  if (chip.dataset.batch === "full") return Math.max(1, trainSize());
  if (chip.dataset.batch === "default") return store.options?.defaults?.batch_size ?? 1;
  return Number(chip.dataset.batch);
}

export function trainSize() {
  return store.dataset?.train?.points?.length ?? 0;
}

function wireInputs() {
  // Enter in a field applies it (its change event); the form itself is never submitted
  document.getElementById("hyper-form").addEventListener("submit", (event) => event.preventDefault());
  // loss null: the loss follows the new set (the engine decides mse or cross_entropy)
  controls.dataset.addEventListener("change", () => changeConfig({ dataset: controls.dataset.value, loss: null }));
  controls.noise.addEventListener("input", () => (controls.noiseValue.textContent = `${controls.noise.value} %`));
  controls.noise.addEventListener("change", () => changeConfig({ noise: Number(controls.noise.value) / 100 }));
  controls.trainRatio.addEventListener("input", () => (controls.trainRatioValue.textContent = `${controls.trainRatio.value} %`));
  controls.trainRatio.addEventListener("change", () => changeConfig({ train_ratio: Number(controls.trainRatio.value) / 100 }));
  controls.samples.addEventListener("change", () => {
    const samples = numberFrom(controls.samples, "samples");
    if (samples === null) return invalid(controls.samples, "error.samples", "samples");
    changeConfig({ samples });
  });
  controls.seed.addEventListener("change", () => {
    const seed = numberFrom(controls.seed, "seed");
    if (seed === null) return invalid(controls.seed, "error.seed", "seed");
    changeConfig({ seed });
  });
  $("seed-random").addEventListener("click", () => changeConfig({ seed: Math.floor(Math.random() * 100000) }));
  controls.learningRate.addEventListener("change", () => {
    const rate = numberFrom(controls.learningRate, "learning_rate");
    if (rate === null) return invalid(controls.learningRate, "error.learning_rate", "learning_rate");
    changeConfig({ learning_rate: rate });
  });
  for (const [key, select] of [
    ["activation", controls.activation],
    ["loss", controls.loss],
    ["optimizer", controls.optimizer],
    ["regularization", controls.regularization],
    ["init", controls.init],
  ]) {
    select.addEventListener("change", () => changeConfig({ [key]: select.value }));
  }
  controls.momentum.addEventListener("change", () => {
    const momentum = numberFrom(controls.momentum, "momentum");
    if (momentum === null) return invalid(controls.momentum, "error.momentum", "momentum");
    changeConfig({ momentum });
  });
  controls.batchSize.addEventListener("change", () => {
    const batch = numberFrom(controls.batchSize, "batch_size");
    if (batch === null) return invalid(controls.batchSize, "error.batch_size", "batch_size");
    changeConfig({ batch_size: batch });
  });
  for (const chip of document.querySelectorAll("[data-batch]")) {
    chip.addEventListener("click", () => {
      changeConfig({ batch_size: chipSize(chip) });
    });
  }
  controls.regularizationRate.addEventListener("change", () => {
    const rate = numberFrom(controls.regularizationRate, "regularization_rate");
    if (rate === null) return invalid(controls.regularizationRate, "error.regularization_rate", "regularization_rate");
    changeConfig({ regularization_rate: rate });
  });
  // a decimal field shows its number in the reader's form ("0,03") once it is left: the server's
  // answer arrived while it had the focus, when the field is not rewritten under the typing
  for (const input of [controls.learningRate, controls.momentum, controls.regularizationRate]) {
    input.addEventListener("blur", () => {
      if (!input.hasAttribute("aria-invalid")) markDirty(DIRTY.config);
    });
  }
  $("add-layer").addEventListener("click", addLayer);
  $("remove-layer").addEventListener("click", removeLayer);
}

// --- reflecting the config ----------------------------------------------------------------

function setIfIdle(input, value) {
  if (document.activeElement === input && input.tagName === "INPUT" && input.type !== "range") return;
  if (input.value === value && !input.hasAttribute("aria-invalid")) return;
  input.value = value;
  input.removeAttribute("aria-invalid");
}

function batchModeText(batchSize) {
  const size = trainSize();
  if (!size) return "";
  if (batchSize >= size) return t("hyper.mode_batch", { n: groupedInteger(size) });
  if (batchSize === 1) return t("hyper.mode_sgd", { n: groupedInteger(size) });
  return t("hyper.mode_mini", { n: groupedInteger(Math.ceil(size / batchSize)) });
}

function reflectConfig() {
  const config = store.config;
  if (!config) return;
  if (![...controls.dataset.options].some((option) => option.value === config.dataset)) buildOptionLists();
  setIfIdle(controls.dataset, config.dataset);
  setIfIdle(controls.noise, String(Math.round(config.noise * 100)));
  controls.noiseValue.textContent = `${Math.round(config.noise * 100)} %`;
  setIfIdle(controls.trainRatio, String(Math.round(config.train_ratio * 100)));
  controls.trainRatioValue.textContent = `${Math.round(config.train_ratio * 100)} %`;
  setIfIdle(controls.samples, String(config.samples));
  setIfIdle(controls.seed, String(config.seed));
  setIfIdle(controls.learningRate, localNumber(config.learning_rate));
  setIfIdle(controls.activation, config.activation);
  setIfIdle(controls.loss, config.loss); // resolved by the server: never null
  setIfIdle(controls.optimizer, config.optimizer);
  setIfIdle(controls.momentum, localNumber(config.momentum));
  controls.momentumField.hidden = config.optimizer !== "momentum";
  setIfIdle(controls.batchSize, String(config.batch_size));
  controls.batchMode.textContent = batchModeText(config.batch_size);
  const size = trainSize();
  for (const chip of document.querySelectorAll("[data-batch]")) {
    const value = chipSize(chip);
    const active = chip.dataset.batch === "full" ? config.batch_size >= size : config.batch_size === value && value < size;
    chip.setAttribute("aria-pressed", String(Boolean(active)));
  }
  setIfIdle(controls.regularization, config.regularization);
  setIfIdle(controls.regularizationRate, localNumber(config.regularization_rate));
  controls.regularizationRate.disabled = config.regularization === "none";
  setIfIdle(controls.init, config.init);
  // cross-entropy needs classes: not offered for a regression set
  const regression = isRegressionSet(config.dataset);
  for (const option of controls.loss.options) option.disabled = regression && option.value === "cross_entropy";

  const planar = store.dataset ? store.dataset.planar !== false : true;
  for (const box of controls.featureList.querySelectorAll("input")) {
    box.checked = config.features.includes(box.value);
    box.disabled = !planar;
  }
  controls.featureList.closest("fieldset").classList.toggle("disabled", !planar);
  for (const id of ["noise", "samples"]) $(id).disabled = !planar;

  const layers = config.hidden_layers;
  controls.layerCount.textContent = String(layers.length);
  const layerRange = uiRange("hidden_layers");
  $("add-layer").disabled = layers.length >= layerRange.max;
  $("remove-layer").disabled = layers.length <= layerRange.min;
  controls.linearNotice.hidden = !(config.activation === "linear" && layers.length > 0);
}

/** An upload accepted by the server: offered in the data set list from now on. */
export function rememberUpload(result, fileName) {
  addUpload(result, fileName);
}

export function initSettings() {
  wireInputs();
  onServerMessage("error", () => markDirty(DIRTY.config)); // a refused change: show the config as it is
  registerRenderer({
    name: "settings",
    mask: DIRTY.config | DIRTY.lang | DIRTY.dataset,
    render() {
      const built = builtFor;
      if (built.options !== store.options || built.uploads !== store.uploads || built.lang !== store.lang) buildOptionLists();
      reflectConfig();
    },
  });
}
