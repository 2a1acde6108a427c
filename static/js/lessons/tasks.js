// A lesson step's task, checked from the page's live store (docs/lessons.md lists the kinds).
// Each kind is a name → {met(task, store), measure(store)} entry: `met` says whether the student
// has done it; `measure` (optional) is the live number the panel shows beside the task, so the
// student sees how close they are. Lesson files name a kind and its thresholds, and may add
// `requires` (conditions on the network that must hold as well).

import { DRAWN_FILE } from "../draw_points.js";
import { OutputImage } from "../render/heatmap.js";

/** How far, in grid cells, the decision boundary strays from the straight line that fits it best,
 * measured on the output heatmap (the same G×G grid the output view draws): each pair of
 * neighbouring cells the network puts in different classes is one point of the boundary; the
 * line through them is their principal axis, and the answer is the largest distance of a point
 * from it. A linear model's boundary gives under one cell (the grid's rounding); a curve gives
 * many. Null when there is no boundary on the plane (fewer than a handful of points). */
export function boundaryBend(heatmaps, network) {
  if (!heatmaps?.data || !network) return null;
  const size = heatmaps.resolution;
  const classOf = new Int8Array(size * size);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const values = OutputImage.valuesAt(heatmaps, column / (size - 1), row / (size - 1));
      let best = 0;
      if (values.length === 1) best = values[0] >= 0.5 ? 1 : 0; // one output: its value against ½
      else for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
      classOf[row * size + column] = best;
    }
  }
  const xs = [];
  const ys = [];
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const here = classOf[row * size + column];
      if (column + 1 < size && classOf[row * size + column + 1] !== here) {
        xs.push(column + 0.5);
        ys.push(row);
      }
      if (row + 1 < size && classOf[(row + 1) * size + column] !== here) {
        xs.push(column);
        ys.push(row + 0.5);
      }
    }
  }
  if (xs.length < 4) return null;
  const n = xs.length;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - meanX) ** 2;
    syy += (ys[i] - meanY) ** 2;
    sxy += (xs[i] - meanX) * (ys[i] - meanY);
  }
  // the principal axis of the points: the eigenvector of the larger eigenvalue of their covariance
  const angle = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  const normalX = -Math.sin(angle);
  const normalY = Math.cos(angle);
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs((xs[i] - meanX) * normalX + (ys[i] - meanY) * normalY));
  return largest;
}

/** The share of the last `RISE_WINDOW` points of the training-loss curve that lie above the point
 * before them: near 0 for full-batch descent at a modest rate, large for noisy SGD. Null until the
 * curve has `RISE_MIN_POINTS` points. */
const RISE_WINDOW = 40;
const RISE_MIN_POINTS = 15;
export function lossRises(history) {
  const losses = history.train.slice(-RISE_WINDOW).filter((value) => value !== null);
  if (losses.length < RISE_MIN_POINTS) return null;
  let rises = 0;
  for (let i = 1; i < losses.length; i++) if (losses[i] > losses[i - 1]) rises++;
  return rises / (losses.length - 1);
}

function hiddenNeurons(store) {
  return (store.config?.hidden_layers ?? []).reduce((sum, count) => sum + count, 0);
}

/** How many points the session trains on, if its data set is one the page drew (else 0). */
function drawnPoints(store) {
  const dataset = store.dataset;
  if (dataset?.title !== DRAWN_FILE) return 0;
  return (dataset.train?.points?.length ?? 0) + (dataset.test?.points?.length ?? 0);
}

/** Whether the network meets a task's `requires` (every condition named must hold). */
export function requirementsMet(requires, store) {
  if (!requires) return true;
  const config = store.config;
  if (!config) return false;
  if (requires.activation !== undefined && config.activation !== requires.activation) return false;
  if (requires.loss !== undefined && config.loss !== requires.loss) return false;
  if (requires.init !== undefined && config.init !== requires.init) return false;
  if (requires.regularization_not !== undefined && config.regularization === requires.regularization_not) return false;
  if (requires.activation_not !== undefined && config.activation === requires.activation_not) return false;
  if (requires.hidden_layers_at_least !== undefined && config.hidden_layers.length < requires.hidden_layers_at_least) return false;
  if (requires.max_neurons !== undefined && hiddenNeurons(store) > requires.max_neurons) return false;
  if (requires.steps_at_least !== undefined && store.step < requires.steps_at_least) return false;
  if (requires.batch_size_at_least !== undefined && config.batch_size < requires.batch_size_at_least) return false;
  if (requires.batch_size_at_most !== undefined && config.batch_size > requires.batch_size_at_most) return false;
  if (requires.drawn_points_at_least !== undefined && drawnPoints(store) < requires.drawn_points_at_least) return false;
  return true;
}

// Memoised per heatmap message: the bend is measured once per new output grid, not per frame.
let measured = { heatmaps: null, bend: null };
function bendOf(store) {
  if (measured.heatmaps !== store.heatmaps) measured = { heatmaps: store.heatmaps, bend: boundaryBend(store.heatmaps, store.network) };
  return measured.bend;
}

function metric(store, name) {
  const value = store.metrics?.[name];
  return typeof value === "number" ? value : null;
}

/** Test loss minus training loss: how much worse the network does on samples it never trained on. */
function generalisationGap(store) {
  const train = metric(store, "train_loss");
  const test = metric(store, "test_loss");
  return train === null || test === null ? null : test - train;
}

export const TASKS = {
  select_neuron: {
    // a neuron with weights (a hidden or output neuron), so the inspector shows its equation
    met: (task, store) => store.selection?.kind === "neuron" && store.selection.column > 0,
  },
  steps: {
    met: (task, store) => store.step >= task.steps,
    measure: (store) => store.step,
  },
  inputs_at_least: {
    met: (task, store) => (store.network?.layer_sizes?.[0] ?? 0) >= task.inputs,
    measure: (store) => store.network?.layer_sizes?.[0] ?? null,
  },
  loss_below: {
    met: (task, store) => (metric(store, `${task.split}_loss`) ?? Infinity) < task.value,
    measure: (store, task) => metric(store, `${task.split}_loss`),
  },
  accuracy_at_least: {
    met: (task, store) => (metric(store, `${task.split}_accuracy`) ?? 0) >= task.value,
    measure: (store, task) => metric(store, `${task.split}_accuracy`),
  },
  boundary_straight: {
    met: (task, store) => {
      const bend = bendOf(store);
      return bend !== null && bend <= task.max_cells;
    },
    measure: (store) => bendOf(store),
  },
  boundary_curved: {
    met: (task, store) => (bendOf(store) ?? 0) >= task.min_cells,
    measure: (store) => bendOf(store),
  },
  generalisation_gap_above: {
    met: (task, store) => (generalisationGap(store) ?? -Infinity) >= task.value,
    measure: (store) => generalisationGap(store),
  },
  generalisation_gap_below: {
    met: (task, store) => (generalisationGap(store) ?? Infinity) <= task.value,
    measure: (store) => generalisationGap(store),
  },
  diverged: {
    met: (task, store) => store.diverged !== null,
  },
  overshoot: {
    // the loss line (the U) measured at the current rate, whose step lands past the U's bottom
    met: (task, store) => {
      const line = store.lossLine;
      if (line?.status !== "done" || line.result.current_rate !== store.config?.learning_rate) return false;
      return line.result.current_rate > line.result.best_rate;
    },
  },
  loss_rises_at_most: {
    met: (task, store) => {
      const share = lossRises(store.history);
      return share !== null && share <= task.share;
    },
    measure: (store) => lossRises(store.history),
  },
  loss_rises_at_least: {
    met: (task, store) => (lossRises(store.history) ?? 0) >= task.share,
    measure: (store) => lossRises(store.history),
  },
  gradient_checked: {
    // a gradient check of the network as it is now (its parameter count), of at least `parameters`
    met: (task, store) => {
      const check = store.gradientCheck;
      if (check?.status !== "done" || check.result.parameters !== store.network?.parameters) return false;
      return check.result.parameters >= (task.parameters ?? 0);
    },
    measure: (store) => {
      const result = store.gradientCheck?.status === "done" ? store.gradientCheck.result : null;
      return result ? result.numerical_seconds / Math.max(result.backprop_seconds, 1e-9) : null;
    },
  },
  phase_reached: {
    // the phase walk (teaching mode) showed `phase` (forward, loss, backward, update) at `layer`
    // ("first", "output", or none), for the chosen sample
    met: (task, store) => {
      const depth = store.network ? store.network.layer_sizes.length - 1 : 0;
      const layer = { first: 0, output: depth - 1 }[task.layer] ?? null;
      return store.teaching.phases.some((phase) => phase.kind === task.phase && (layer === null || phase.layer === layer));
    },
  },
  race_finished: {
    met: (task, store) => store.race?.status === "finished",
  },
};

/** Whether `task` is met now, on the network it requires. */
export function taskMet(task, store) {
  const kind = TASKS[task.kind];
  return Boolean(kind) && requirementsMet(task.requires, store) && kind.met(task, store);
}

/** The task's live number (a loss, a bend in cells, a step count), or null. */
export function taskMeasure(task, store) {
  return TASKS[task.kind]?.measure?.(store, task) ?? null;
}
