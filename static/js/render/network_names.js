// How the network view names things, for labels, tooltips, the inspector and screen readers.

import { t } from "../i18n.js";
import { featureFormula } from "../options.js";
import { store } from "../store.js";

/** "Input", "Hidden layer 2", "Output" for column c. */
export function columnName(column, columns) {
  if (column === 0) return t("network.input");
  if (column === columns - 1) return t("network.output");
  return t("network.hidden", { n: column });
}

/** How a neuron is called in labels: x₁ for inputs, class names for outputs, h₂ for hidden. */
export function neuronName(column, index) {
  const sizes = store.network.layer_sizes;
  if (column === 0) {
    const name = store.network.input_names?.[index];
    return name === undefined ? `x${index + 1}` : featureFormula(name);
  }
  if (column === sizes.length - 1) {
    if (store.network.output !== "softmax") return "ŷ";
    const className = store.dataset?.class_names?.[index];
    return className ?? t("network.class", { k: index });
  }
  return t("network.neuron_short", { n: index + 1 });
}
