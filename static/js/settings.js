// The hyperparameter forms (docs/product.md, Features): data set, noise, training share,
// samples, seed, input features, learning rate, activation, loss, optimiser, momentum, batch
// size, regularisation and its rate, initialisation, and the architecture (hidden layers and
// neurons).
//
// Every control sends a `config` message with just what changed; the server answers with the
// full config (or an error naming the field) and the store reflects it back into the forms.
// Changes are live: the server keeps training, re-initialising only for data or architecture.

import { t, has } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { onServerMessage } from "./messages.js";
import { send } from "./session.js";
import { DIRTY, markDirty, pushError, store } from "./store.js";

export const LIMITS = { maxHiddenLayers: 6, minNeurons: 1, maxNeurons: 16 };
const REGRESSION = new Set(["plane", "multi_gaussian"]);
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 100, 1000];

const FALLBACK_OPTIONS = {
  datasets: ["circle", "xor", "gaussian", "spiral", "moons", "five_class", "plane", "multi_gaussian", "iris"],
  features: ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"],
  activations: ["linear", "sigmoid", "tanh", "relu", "leaky_relu"],
  losses: ["cross_entropy", "mse"],
  optimizers: ["sgd", "momentum", "adam"],
  inits: ["xavier", "he", "uniform"],
  regularizations: ["none", "l1", "l2"],
};

export const FEATURE_FORMULAS = {
  x1: "x₁", x2: "x₂", x1_squared: "x₁²", x2_squared: "x₂²", x1_x2: "x₁·x₂", sin_x1: "sin(x₁)", sin_x2: "sin(x₂)",
};

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
  init: $("init"),
  layerCount: $("layer-count"),
  linearNotice: $("linear-notice"),
};

const uploaded = new Map(); // dataset id -> {name, classes, features, rows}

// --- options --------------------------------------------------------------------------------

/** Names from the server's options, whichever shape it uses: ["a", …], [{name}, …] or {a: …}. */
function names(raw, fallback) {
  if (Array.isArray(raw)) {
    const list = raw.map((item) => (typeof item === "string" ? item : item?.name ?? item?.id)).filter(Boolean);
    return list.length ? list : fallback;
  }
  if (raw && typeof raw === "object") return Object.keys(raw);
  return fallback;
}

export function normaliseOptions(raw) {
  const options = {};
  for (const key of Object.keys(FALLBACK_OPTIONS)) options[key] = names(raw?.[key], FALLBACK_OPTIONS[key]);
  options.optimizers = names(raw?.optimizers ?? raw?.optimisers, FALLBACK_OPTIONS.optimizers);
  options.regularizations = names(raw?.regularizations ?? raw?.regularisations, FALLBACK_OPTIONS.regularizations);
  options.regressionSets = new Set(REGRESSION);
  if (Array.isArray(raw?.datasets)) {
    for (const item of raw.datasets) {
      if (item && typeof item === "object" && (item.task === "regression" || item.kind === "regression" || item.regression === true)) {
        options.regressionSets.add(item.name ?? item.id);
      }
    }
  }
  const limits = raw?.limits ?? {};
  options.maxHiddenLayers = Math.min(LIMITS.maxHiddenLayers, limits.max_hidden_layers ?? limits.hidden_layers ?? LIMITS.maxHiddenLayers);
  options.maxNeurons = Math.min(LIMITS.maxNeurons, limits.max_neurons ?? limits.neurons_per_layer ?? LIMITS.maxNeurons);
  return options;
}

export function isRegressionSet(name) {
  if (uploaded.has(name)) return uploaded.get(name).classes === null;
  return store.options?.regressionSets.has(name) ?? REGRESSION.has(name);
}

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

function buildOptionLists() {
  const options = store.options;
  if (!options) return;
  const datasets = [...options.datasets, ...[...uploaded.keys()].filter((id) => !options.datasets.includes(id))];
  const current = store.config?.dataset;
  if (current && !datasets.includes(current)) datasets.push(current); // an uploaded set named by a link
  fillSelect(controls.dataset, datasets, (name) =>
    uploaded.has(name) ? t("dataset.uploaded", { name: uploaded.get(name).name }) : label("dataset", name),
  );
  fillSelect(controls.activation, options.activations, "activation");
  fillSelect(controls.loss, options.losses, "loss");
  fillSelect(controls.optimizer, options.optimizers, "optimizer");
  fillSelect(controls.regularization, options.regularizations, "regularization");
  fillSelect(controls.init, options.inits, "init");
  controls.learningRatePresets.replaceChildren(
    ...LEARNING_RATES.map((rate) => {
      const option = document.createElement("option");
      option.value = String(rate);
      return option;
    }),
  );
  buildFeatureToggles();
}

function buildFeatureToggles() {
  const features = store.options?.features ?? FALLBACK_OPTIONS.features;
  controls.featureList.replaceChildren(
    ...features.map((name) => {
      const wrapper = document.createElement("label");
      wrapper.className = "feature-toggle";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      box.addEventListener("change", onFeatureToggle);
      const text = document.createElement("span");
      text.textContent = FEATURE_FORMULAS[name] ?? name;
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

function invalid(input, messageKey, vars) {
  input.setAttribute("aria-invalid", "true");
  pushError({ key: messageKey, vars });
  markDirty(DIRTY.config);
}

function numberFrom(input, { min, max, integer = false, minExclusive = false }) {
  const text = input.value.trim();
  const value = Number(text);
  if (text === "" || !Number.isFinite(value)) return null;
  if (integer && !Number.isInteger(value)) return null;
  if (minExclusive ? value <= min : value < min) return null;
  if (max !== undefined && value > max) return null;
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
  if (layers.length >= (store.options?.maxHiddenLayers ?? LIMITS.maxHiddenLayers)) return;
  layers.push(layers.length ? layers[layers.length - 1] : 2);
  setHiddenLayers(layers);
}

export function removeLayer() {
  const layers = [...(store.config?.hidden_layers ?? [])];
  if (layers.length === 0) return;
  layers.pop();
  setHiddenLayers(layers);
}

export function changeNeurons(layerIndex, delta) {
  const layers = [...(store.config?.hidden_layers ?? [])];
  const next = layers[layerIndex] + delta;
  if (next < LIMITS.minNeurons || next > (store.options?.maxNeurons ?? LIMITS.maxNeurons)) return;
  layers[layerIndex] = next;
  setHiddenLayers(layers);
}

export function trainSize() {
  return store.dataset?.train?.points?.length ?? 0;
}

function wireInputs() {
  // Enter in a field applies it (its change event); the form itself is never submitted
  document.getElementById("hyper-form").addEventListener("submit", (event) => event.preventDefault());
  controls.dataset.addEventListener("change", () => {
    const name = controls.dataset.value;
    changeConfig({ dataset: name, loss: isRegressionSet(name) ? "mse" : "cross_entropy" });
  });
  controls.noise.addEventListener("input", () => (controls.noiseValue.textContent = `${controls.noise.value} %`));
  controls.noise.addEventListener("change", () => changeConfig({ noise: Number(controls.noise.value) / 100 }));
  controls.trainRatio.addEventListener("input", () => (controls.trainRatioValue.textContent = `${controls.trainRatio.value} %`));
  controls.trainRatio.addEventListener("change", () => changeConfig({ train_ratio: Number(controls.trainRatio.value) / 100 }));
  controls.samples.addEventListener("change", () => {
    const samples = numberFrom(controls.samples, { min: 10, integer: true });
    if (samples === null) return invalid(controls.samples, "error.samples");
    changeConfig({ samples });
  });
  controls.seed.addEventListener("change", () => {
    const seed = numberFrom(controls.seed, { min: 0, integer: true });
    if (seed === null) return invalid(controls.seed, "error.seed");
    changeConfig({ seed });
  });
  $("seed-random").addEventListener("click", () => changeConfig({ seed: Math.floor(Math.random() * 100000) }));
  controls.learningRate.addEventListener("change", () => {
    const rate = numberFrom(controls.learningRate, { min: 0, max: 1000, minExclusive: true });
    if (rate === null) return invalid(controls.learningRate, "error.learning_rate");
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
    const momentum = numberFrom(controls.momentum, { min: 0, max: 0.999 });
    if (momentum === null) return invalid(controls.momentum, "error.momentum");
    changeConfig({ momentum });
  });
  controls.batchSize.addEventListener("change", () => {
    const batch = numberFrom(controls.batchSize, { min: 1, integer: true });
    if (batch === null) return invalid(controls.batchSize, "error.batch_size");
    changeConfig({ batch_size: batch });
  });
  for (const chip of document.querySelectorAll("[data-batch]")) {
    chip.addEventListener("click", () => {
      const size = chip.dataset.batch === "full" ? Math.max(1, trainSize()) : Number(chip.dataset.batch);
      changeConfig({ batch_size: size });
    });
  }
  controls.regularizationRate.addEventListener("change", () => {
    const rate = numberFrom(controls.regularizationRate, { min: 0 });
    if (rate === null) return invalid(controls.regularizationRate, "error.regularization_rate");
    changeConfig({ regularization_rate: rate });
  });
  $("add-layer").addEventListener("click", addLayer);
  $("remove-layer").addEventListener("click", removeLayer);
}

// --- reflecting the config ----------------------------------------------------------------

function setIfIdle(input, value) {
  if (document.activeElement === input && input.tagName === "INPUT" && input.type !== "range") return;
  input.value = value;
  input.removeAttribute("aria-invalid");
}

function batchModeText(batchSize) {
  const size = trainSize();
  if (!size) return "";
  if (batchSize >= size) return t("hyper.mode_batch", { n: size });
  if (batchSize === 1) return t("hyper.mode_sgd", { n: size });
  return t("hyper.mode_mini", { n: Math.ceil(size / batchSize) });
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
  setIfIdle(controls.learningRate, String(config.learning_rate));
  setIfIdle(controls.activation, config.activation);
  setIfIdle(controls.loss, config.loss ?? (isRegressionSet(config.dataset) ? "mse" : "cross_entropy"));
  setIfIdle(controls.optimizer, config.optimizer);
  setIfIdle(controls.momentum, String(config.momentum));
  controls.momentumField.hidden = config.optimizer !== "momentum";
  setIfIdle(controls.batchSize, String(config.batch_size));
  controls.batchMode.textContent = batchModeText(config.batch_size);
  const size = trainSize();
  for (const chip of document.querySelectorAll("[data-batch]")) {
    const value = chip.dataset.batch === "full" ? size : Number(chip.dataset.batch);
    const active = chip.dataset.batch === "full" ? config.batch_size >= size : config.batch_size === value && value < size;
    chip.setAttribute("aria-pressed", String(Boolean(active)));
  }
  setIfIdle(controls.regularization, config.regularization);
  setIfIdle(controls.regularizationRate, String(config.regularization_rate));
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
  $("add-layer").disabled = layers.length >= (store.options?.maxHiddenLayers ?? LIMITS.maxHiddenLayers);
  $("remove-layer").disabled = layers.length === 0;
  controls.linearNotice.hidden = !(config.activation === "linear" && layers.length > 0);
}

export function rememberUpload(result, fileName) {
  uploaded.set(result.id, { name: fileName, classes: result.classes ?? null, features: result.features, rows: result.rows });
  buildOptionLists();
}

export function initSettings() {
  wireInputs();
  onServerMessage("error", () => markDirty(DIRTY.config)); // a refused change: show the config as it is
  registerRenderer({
    name: "settings",
    mask: DIRTY.config | DIRTY.lang | DIRTY.dataset,
    render(flags) {
      if (flags & DIRTY.lang) buildOptionLists();
      reflectConfig();
    },
  });
}
