// How the network view names things, for labels, tooltips, the inspector and screen readers.

import { has, t } from "../i18n.js";
import { featureFormula } from "../options.js";
import { store } from "../store.js";

/** "Input", "Hidden layer 2", "Output" for column c. */
export function columnName(column, columns) {
  if (column === 0) return t("network.input");
  if (column === columns - 1) return t("network.output");
  return t("network.hidden", { n: column });
}

/** How a sentence names column c's layer: "hidden layer 2", "the output layer". */
export function layerPhrase(column, columns) {
  if (column === 0) return t("network.layer_input");
  if (column === columns - 1) return t("network.layer_output");
  return t("network.layer_hidden", { n: column });
}

/** An input's name as the page writes it: a feature's formula (x₁², sin(x₁)), a shipped data
 * set's column in the reader's language ("panjang kelopak" for Iris's sepal_length), or an
 * uploaded column's own header. */
export function inputLabel(name) {
  const formula = featureFormula(name);
  if (formula !== name) return formula;
  return has(`column.${name}`) ? t(`column.${name}`) : name;
}

/** How a neuron is called in labels: x₁ for inputs, class names for outputs, h₂ for hidden. */
export function neuronName(column, index) {
  const sizes = store.network.layer_sizes;
  if (column === 0) {
    const name = store.network.input_names?.[index];
    return name === undefined ? `x${index + 1}` : inputLabel(name);
  }
  if (column === sizes.length - 1) {
    if (store.network.output !== "softmax") return "ŷ";
    const className = store.dataset?.class_names?.[index];
    return className ?? t("network.class", { k: index });
  }
  return t("network.neuron_short", { n: index + 1 });
}
