// The inspector (`neuron-inspector`): the selected neuron's or edge's equations with the live
// numbers of the chosen sample, term by term.
//
// Neuron: z = w₁·a₁ + … + b and a = f(z) with every product written out; its delta by the chain
// rule (hidden: δ = f′(z)·Σₖ wₖ·δₖ over the next layer, f′(z) the probe's; output: the loss's
// δ through the output layer, the engine's number, since softmax's f′ is a Jacobian); ∂L/∂b and each
// incoming ∂L/∂wᵢ = aᵢ·δ (buttons that open the edge); its bias, editable, with a finite-
// difference check. Edge: the weight (editable), ∂L/∂w = a·δ for the sample, the batch gradient of
// the objective, the last update Δw, and a finite-difference check of that one weight.
//
// Every result shown is the engine's number (probe, params, gradients, updates, check replies);
// each carries data-name and data-value (full precision) so tests and curious users can read it.
//
// One weight has several gradients, each of a different function, so each says what it is of
// (data-scope): the chain rule above is of this sample's loss L, the last update used the last
// batch's objective J, and the finite-difference check perturbs both this sample's loss and the
// whole training set's objective, each beside backprop's derivative of that same function.

import { checkParameter, setParameterValue } from "../checks.js";
import { el } from "../dom.js";
import { fullNumber, listSeparator, localNumber, mathText, parseLocalNumber, shortNumber, subscript } from "../format.js";
import { t } from "../i18n.js";
import { matrixEntry, weightAt } from "../layers.js";
import { registerRenderer } from "../loop.js";
import { formulas } from "../options.js";
import { DIRTY, pushError, select, store, whileRunning } from "../store.js";
import { columnName, layerPhrase, neuronName } from "./network_names.js";

const UPDATE_INTERVAL_MS = 100;

const body = document.getElementById("inspector-body");

let built = ""; // what the static part was built for
let equations = null; // the part rebuilt with new numbers
let valueInput = null;
let currentValue = null;
let gradientLine = null;
let checkResult = null;

// --- small DOM helpers ----------------------------------------------------------------------

/** A number as shown: a plain decimal (below), full precision in data-value and the title. */
function num(value, name, { asFactor = false, digits = 4 } = {}) {
  const text = plainDecimal(value, digits);
  const span = el("span", "num", asFactor && value < 0 ? `(${text})` : text);
  if (name) span.dataset.name = name;
  span.dataset.value = String(value);
  span.title = fullNumber(value);
  return span;
}

const decimalFormats = new Map(); // Intl formats by language and precision

/** A plain decimal with `digits` significant digits ("0.000754", "−0.302"; "0,000754" in
 * Indonesian): what a class reads off a projector, where "7.54e−4" would stop the lesson. Only
 * below 1e−6 (or from 1e6) the exponent form comes back: a run of zeros reads worse. */
function plainDecimal(value, digits = 4) {
  const magnitude = Math.abs(value);
  if (!Number.isFinite(value) || magnitude === 0 || magnitude < 1e-6 || magnitude >= 1e6) return shortNumber(value, digits);
  const key = `${store.lang}:${digits}`;
  let formatter = decimalFormats.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(store.lang === "id" ? "id-ID" : "en-US", { maximumSignificantDigits: digits, useGrouping: false });
    decimalFormats.set(key, formatter); // one per language and precision: the inspector writes hundreds a second
  }
  return formatter.format(value).replace("-", "−");
}


/** A gradient as shown: a plain decimal, full precision in data-value, and what it is of. */
function gradientNumber(value, name, scope) {
  const span = num(value, name);
  span.dataset.scope = scope;
  return span;
}

/** The words naming a gradient's scope, e.g. "(this sample: training sample 7)". */
function scopeTag(scope) {
  return el("span", "scope-tag", `(${scopeWords(scope)})`);
}

function scopeWords(scope) {
  if (scope === "sample") {
    const sample = store.sample;
    return t("inspect.scope_sample", { split: t(`teach.split_${sample.split}`), index: sample.index });
  }
  if (scope === "batch") {
    const trainSize = store.dataset?.train?.points?.length ?? Infinity;
    return t("inspect.scope_batch", { n: Math.min(store.config?.batch_size ?? 1, trainSize) });
  }
  return t("inspect.scope_train", { n: store.dataset?.train?.points?.length ?? "–" });
}

function line(...parts) {
  const row = el("div", "eq");
  for (const part of parts) row.append(typeof part === "string" ? document.createTextNode(part) : part);
  return row;
}

// --- the maths of one neuron ----------------------------------------------------------------
// Every formula is the engine's text (GET /api/v1/options → formulas), every number the
// engine's (probe, params): the page writes them side by side and computes nothing.

/**
 * The activation's formula with `argument` in place of z: "tanh(z)" → "tanh(w₁·x₁ + b)". Where z
 * stands in a product or a power ("0.01·z") a sum needs its parentheses.
 */
function applied(formula, argument) {
  return formula.replace(/z/g, (match, offset) => {
    const before = formula[offset - 1];
    const after = formula[offset + 1];
    const bare = (before === undefined || before === "(" || before === " ") && (after === undefined || [")", ",", ";"].includes(after));
    return bare ? argument : `(${argument})`;
  });
}

/** The formula as DOM parts with each `z` replaced by `node()` (a number), e.g. tanh(0.42). */
function appliedNodes(formula, node) {
  const parts = [];
  formula.split("z").forEach((text, index) => {
    if (index > 0) parts.push(node());
    if (text) parts.push(text);
  });
  return parts;
}

function inputSymbol(l, i) {
  if (l === 0) return neuronName(0, i);
  return `a${subscript(i + 1)}`;
}

function sourceValue(probe, l, i) {
  return l === 0 ? probe.inputs[i] : probe.layers[l - 1].activations[i];
}

function forwardBlock(column, j) {
  const sizes = store.network.layer_sizes;
  const l = column - 1;
  const probe = store.probe;
  const params = store.params;
  const isOutput = column === sizes.length - 1;
  const maths = formulas();
  const activation = isOutput ? null : maths.activations?.[store.network.activation];
  const block = el("section", "eq-block");
  block.append(el("h4", null, t("inspect.forward")));
  const nIn = sizes[l];

  // symbolic: a = f(w₁·a₁ + … + b), or for the output z = … and ŷ = g(z)
  const terms = [];
  for (let i = 0; i < nIn; i++) terms.push(`w${subscript(i + 1)}·${inputSymbol(l, i)}`);
  const sum = `${terms.join(" + ")} + b`;
  if (isOutput) {
    block.append(line(`z = ${sum}`), line(mathText(maths.outputs?.[store.network.output], { j: j + 1 })));
  } else {
    block.append(line(`a = ${applied(mathText(activation?.formula ?? "f(z)"), sum)}`));
  }
  if (!probe || !params) return block;

  // numbers: z = (w₁)·(a₁) + … + b = z
  const numbers = line("z = ");
  for (let i = 0; i < nIn; i++) {
    if (i > 0) numbers.append(" + ");
    numbers.append(num(weightAt(params[l], i, j), `w${i + 1}`, { asFactor: true, digits: 3 }), "·", num(sourceValue(probe, l, i), `input${i + 1}`, { asFactor: true, digits: 3 }));
  }
  numbers.append(" + ", num(params[l].biases[j], "bias", { asFactor: true, digits: 3 }), " = ", num(probe.layers[l].pre_activations[j], "z"));
  block.append(numbers);
  const a = probe.layers[l].activations[j];
  if (isOutput) {
    const note = store.network.output === "softmax" ? ["  ", el("span", "note", t("inspect.probability"))] : [];
    block.append(line("ŷ = ", num(a, "a"), ...note));
  } else {
    const z = probe.layers[l].pre_activations[j];
    block.append(line("a = ", ...appliedNodes(mathText(activation?.formula ?? "z"), () => num(z, null, { asFactor: true, digits: 3 })), " = ", num(a, "a")));
  }
  return block;
}

/** The output delta's formula with ŷⱼ and yⱼ filled in, when it names only this neuron's values. */
function outputDeltaNumbers(formula, yHat, y, delta) {
  if (formula.includes("Σ")) {
    // through softmax every output takes part: the values of this neuron, then the engine's δ
    return [line("ŷ = ", num(yHat, "y-hat", { digits: 4 }), ",  y = ", num(y, "target", { digits: 4 })), line("δ = ", num(delta, "delta"))];
  }
  const row = line("δ = ");
  for (const part of formula.split(/(ŷ_j|y_j)/)) {
    if (part === "ŷ_j") row.append(num(yHat, "y-hat", { asFactor: true, digits: 4 }));
    else if (part === "y_j") row.append(num(y, "target", { asFactor: true, digits: 4 }));
    else if (part) row.append(mathText(part));
  }
  row.append(" = ", num(delta, "delta"));
  return [row];
}

function backwardBlock(column, j) {
  const sizes = store.network.layer_sizes;
  const l = column - 1;
  const probe = store.probe;
  const params = store.params;
  const isOutput = column === sizes.length - 1;
  const maths = formulas();
  const indices = { j: j + 1 };
  const block = el("section", "eq-block");
  block.append(el("h4", null, t("inspect.backward")));
  if (!probe || !params) return block;
  const layer = probe.layers[l];
  const delta = layer.deltas[j];
  const lossName = store.config?.loss;

  if (isOutput) {
    const output = store.network.output;
    const formula = maths.losses?.[lossName]?.delta?.[output] ?? "";
    block.append(line(`δ = ∂L/∂z = ${mathText(formula, indices)}`));
    block.append(el("p", "note", t(`inspect.delta_${lossName}_${output}`)));
    block.append(...outputDeltaNumbers(formula, layer.activations[j], probe.targets[j], delta));
    block.append(line(`${t("inspect.sample_loss")} `, num(probe.loss, "loss")));
  } else {
    const activation = maths.activations?.[store.network.activation];
    // f′(z) is the engine's, carried by the probe for every hidden neuron
    const derivative = layer.derivatives?.[j];
    block.append(line(mathText(maths.network?.hidden_delta, indices)));
    const z = layer.pre_activations[j];
    block.append(
      line(`f′(z) = ${mathText(activation?.derivative ?? "")};  f′(`, num(z, null, { digits: 3 }), ") = ", derivative === undefined ? "–" : num(derivative, "f-prime")),
    );
    const next = probe.layers[l + 1];
    const numbers = line("δ = ", derivative === undefined ? "f′(z)" : num(derivative, null, { asFactor: true, digits: 3 }), "·(");
    for (let k = 0; k < sizes[column + 1]; k++) {
      if (k > 0) numbers.append(" + ");
      numbers.append(num(weightAt(params[l + 1], j, k), `w-out${k + 1}`, { asFactor: true, digits: 3 }), "·", num(next.deltas[k], `delta-out${k + 1}`, { asFactor: true, digits: 3 }));
    }
    numbers.append(") = ", num(delta, "delta"));
    block.append(numbers);
    block.append(el("p", "note", t("inspect.chain_rule_note", { layer: layerPhrase(column + 1, sizes.length) })));
  }

  block.append(line(`${mathText(maths.network?.bias_gradient, indices)} = `, gradientNumber(layer.bias_gradients[j], "bias-gradient", "sample"), " ", scopeTag("sample")));
  const list = el("ul", "edge-list");
  for (let i = 0; i < sizes[l]; i++) {
    const item = el("li");
    const open = el("button", "linklike", `∂L/∂w${subscript(i + 1)} = ${inputSymbol(l, i)}·δ`);
    open.type = "button";
    open.setAttribute("aria-label", t("inspect.open_edge", { from: neuronName(l, i), to: neuronName(column, j) }));
    open.addEventListener("click", () => select({ kind: "edge", layer: l, i, j }));
    item.append(open, " = ", num(sourceValue(probe, l, i), null, { asFactor: true, digits: 3 }), "·", num(delta, null, { asFactor: true, digits: 3 }), " = ", gradientNumber(matrixEntry(layer.weight_gradients, sizes[column], i, j), `weight-gradient${i + 1}`, "sample"));
    list.append(item);
  }
  block.append(list, el("p", "note", t("inspect.scope_sample_note")));
  return block;
}

function edgeBlock({ layer: l, i, j }) {
  const probe = store.probe;
  const block = el("section", "eq-block");
  block.append(el("h4", null, t("inspect.edge_gradient")));
  if (!probe) return block;
  const a = sourceValue(probe, l, i);
  const delta = probe.layers[l].deltas[j];
  block.append(line(mathText(formulas().network?.weight_gradient, { i: i + 1, j: j + 1 })));
  block.append(line("∂L/∂w = ", num(a, "input", { asFactor: true, digits: 4 }), "·", num(delta, "delta", { asFactor: true, digits: 4 }), " = ", gradientNumber(matrixEntry(probe.layers[l].weight_gradients, probe.layers[l].deltas.length, i, j), "weight-gradient", "sample"), " ", scopeTag("sample")));
  block.append(el("p", "note", t("inspect.edge_note")));
  return block;
}

// --- value, gradient, update, check -----------------------------------------------------------

function parameterOf(selection) {
  if (selection.kind === "edge") return { layer: selection.layer, kind: "weight", i: selection.i, j: selection.j };
  return { layer: selection.column - 1, kind: "bias", i: selection.index, j: null };
}

function readParameter(source, parameter) {
  const layer = source?.[parameter.layer];
  if (!layer) return undefined;
  return parameter.kind === "weight" ? weightAt(layer, parameter.i, parameter.j) : layer.biases?.[parameter.i];
}

function parameterBlock(selection) {
  const parameter = parameterOf(selection);
  const symbol = parameter.kind === "weight" ? "w" : "b";
  const block = el("section", "eq-block parameter");
  block.append(el("h4", null, t(parameter.kind === "weight" ? "inspect.weight" : "inspect.bias")));
  currentValue = line(`${symbol} = `);
  block.append(currentValue);
  gradientLine = el("div", "eq-lines");
  block.append(gradientLine);

  const form = el("form", "set-form control-only"); // a viewer's page hides what would steer the session
  const labelElement = el("label", null, t("inspect.set_value", { symbol }));
  valueInput = el("input");
  valueInput.type = "text"; // takes "0,5" and "0.5" in Indonesian (format.js)
  valueInput.inputMode = "decimal";
  valueInput.autocomplete = "off";
  valueInput.id = "inspector-value";
  valueInput.dataset.testid = "parameter-input";
  labelElement.htmlFor = valueInput.id;
  const setButton = el("button", "chip", t("inspect.set"));
  setButton.type = "submit";
  form.append(labelElement, valueInput, setButton);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = parseLocalNumber(valueInput.value);
    if (!Number.isFinite(value)) {
      pushError({ key: "error.parameter_value" });
      return;
    }
    setParameterValue(parameter, value);
  });
  const check = el("button", "chip control-only", t("inspect.check"));
  check.type = "button";
  check.dataset.testid = "parameter-check-button";
  check.addEventListener("click", () => checkParameter(parameter));
  checkResult = el("div", "check-result");
  checkResult.setAttribute("aria-live", "polite");
  block.append(form, check, checkResult);
  return block;
}

function updateParameterBlock(selection) {
  if (!currentValue) return;
  const parameter = parameterOf(selection);
  const symbol = parameter.kind === "weight" ? "w" : "b";
  const value = readParameter(store.params, parameter);
  currentValue.replaceChildren(`${symbol} = `, value === undefined ? "–" : num(value, "value", { digits: 6 }));
  if (document.activeElement !== valueInput && value !== undefined) valueInput.value = fullNumber(value);
  const gradient = readParameter(store.gradients, parameter);
  const update = readParameter(store.updates, parameter);
  const lines = [];
  if (gradient !== undefined) lines.push(line(`∂J/∂${symbol} = `, gradientNumber(gradient, "batch-gradient", "batch"), " ", scopeTag("batch")));
  if (update !== undefined) {
    const rule = formulas().optimizers?.[store.config?.optimizer];
    const note = rule ? `  (${mathText(rule)}${listSeparator()}η = ${localNumber(store.config.learning_rate)})` : "";
    lines.push(line(`Δ${symbol} ${t("inspect.last_update")} = `, num(update, "update"), note));
  }
  gradientLine.replaceChildren(...lines);
  const check = store.parameterCheck;
  const matches = check && check.layer === parameter.layer && check.kind === parameter.kind && check.i === parameter.i && (parameter.kind !== "weight" || check.j === parameter.j);
  if (!matches) {
    checkResult.replaceChildren();
  } else if (check.pending) {
    checkResult.textContent = t("inspect.checking");
  } else {
    checkResult.replaceChildren(checkTable(check), el("p", "note", t("inspect.check_scopes_note", { n: check.forward_passes })));
  }
}

/** The check's two scopes side by side: for each, backprop's derivative and the central
 * difference of the same function, and their relative error. */
function checkTable(check) {
  const table = el("table", "check-table");
  table.dataset.testid = "parameter-check-table";
  const head = el("tr");
  for (const key of ["inspect.check_of", "inspect.check_col_backprop", "inspect.check_col_numerical", "inspect.check_col_error"]) {
    const cell = el("th", null, t(key));
    cell.scope = "col";
    head.append(cell);
  }
  table.append(head);
  const rows = check.sample ? [check.sample, check] : [check];
  for (const row of rows) {
    const scope = row.scope === "sample" ? "sample" : "train";
    const tr = el("tr");
    tr.dataset.scope = scope;
    const of = el("th", null, scopeWords(scope));
    of.scope = "row";
    const suffix = scope === "sample" ? "-sample" : ""; // the whole set's keep their names: check-error …
    const error = num(row.relative_error, `check-error${suffix}`, { digits: 2 });
    const cells = [gradientNumber(row.backprop, `check-backprop${suffix}`, scope),
      gradientNumber(row.numerical, `check-numerical${suffix}`, scope), error].map((number) => {
      const cell = el("td");
      cell.append(number);
      return cell;
    });
    tr.append(of, ...cells);
    table.append(tr);
  }
  return table;
}

// --- building -------------------------------------------------------------------------------

function title(selection) {
  const sizes = store.network.layer_sizes;
  if (selection.kind === "neuron") {
    return `${columnName(selection.column, sizes.length)} · ${neuronName(selection.column, selection.index)}`;
  }
  return t("inspect.edge_title", { from: `${columnName(selection.layer, sizes.length)} ${neuronName(selection.layer, selection.i)}`, to: `${columnName(selection.layer + 1, sizes.length)} ${neuronName(selection.layer + 1, selection.j)}` });
}

function sampleLine() {
  const sample = store.sample;
  return el("p", "note sample-line", t("inspect.sample", { split: t(`teach.split_${sample.split}`), index: sample.index }));
}

function buildStatic(selection) {
  equations = el("div", "equations");
  const parts = [el("h3", "inspect-title", title(selection)), sampleLine(), equations];
  currentValue = null;
  if (selection.kind === "edge" || selection.column > 0) parts.push(parameterBlock(selection));
  body.replaceChildren(...parts);
}

function fillEquations(selection) {
  if (selection.kind === "edge") {
    equations.replaceChildren(edgeBlock(selection));
  } else if (selection.column === 0) {
    const value = store.probe?.inputs?.[selection.index];
    equations.replaceChildren(
      line(`${neuronName(0, selection.index)} = `, value === undefined ? "–" : num(value, "input")),
      el("p", "note", t("inspect.input_note")),
    );
  } else {
    equations.replaceChildren(forwardBlock(selection.column, selection.index), backwardBlock(selection.column, selection.index));
  }
  body.querySelector(".sample-line")?.replaceWith(sampleLine());
}

function render(flags) {
  const selection = store.selection;
  if (!selection || !store.network) {
    if (built !== "none" || flags & DIRTY.lang) {
      body.replaceChildren(el("p", "hint", t("inspect.empty")));
      built = "none";
    }
    return;
  }
  const key = `${JSON.stringify(selection)}:${store.lang}:${store.network.layer_sizes.join(",")}`;
  if (key !== built) {
    buildStatic(selection);
    built = key;
  }
  fillEquations(selection);
  updateParameterBlock(selection);
}

export function initInspector() {
  registerRenderer({
    name: "inspector",
    mask: DIRTY.selection | DIRTY.params | DIRTY.probe | DIRTY.lang | DIRTY.network | DIRTY.checks | DIRTY.teaching,
    // numbers change up to 60 times a second while training; a reader needs far fewer
    interval: whileRunning(UPDATE_INTERVAL_MS),
    urgent: DIRTY.selection | DIRTY.checks | DIRTY.lang | DIRTY.network,
    render,
  });
}
