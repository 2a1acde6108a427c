// The page's one state store.
//
// Server messages and user actions change the store through the functions below, and only
// through them: no other module assigns to the store. Each change sets dirty flags and asks the
// render loop for a frame. Renderers read the store in the loop and never change it (a click
// they wire calls a store function, as any control does). Nothing here touches the DOM.

import { flatLayers, flatProbe } from "./layers.js";
import { requestRender } from "./loop.js";

/** Dirty flags: what changed since the last frame. */
export const DIRTY = {
  config: 1 << 0, // config or options: the forms
  network: 1 << 1, // architecture: layout of the network view
  params: 1 << 2, // weights, gradients, updates
  heatmaps: 1 << 3, // neuron heatmaps and the decision boundary image
  metrics: 1 << 4, // losses, accuracy, RMSE, R², confusion
  history: 1 << 5, // the loss curve
  probe: 1 << 6, // the chosen sample's forward and backward numbers
  selection: 1 << 7, // the inspected neuron or edge
  teaching: 1 << 8, // phase walk, animation
  lang: 1 << 9, // every text
  connection: 1 << 10, // the badge
  state: 1 << 11, // running/paused/diverged, counters
  dataset: 1 << 12, // points of the data set
  hover: 1 << 13, // tooltips
  layout: 1 << 14, // a panel was resized
  checks: 1 << 15, // gradient check and parameter check results
  notices: 1 << 16, // divergence banner, errors
  lab: 1 << 17, // the learning-rate lab: race, loss line, range test
  runs: 1 << 18, // the saved runs list, its status line, the replay scrubber
  classroom: 1 << 19, // share code, viewers, projector mode
  surface: 1 << 20, // the loss surface: its grid, settings, status
  surfacePoint: 1 << 21, // the current point on the loss surface
  all: (1 << 22) - 1,
};

export const HISTORY_LIMIT = 1000; // points per loss curve; beyond it every other point is dropped

export const store = {
  dirty: DIRTY.all,
  lang: "en",
  options: null, // GET /api/v1/options as served: names, formulas, ranges (see options.js)
  uploads: {}, // uploaded data set id -> {name, classes, regression, features, rows}
  connection: "connecting", // session.js's ConnectionState: connecting | open | reconnecting | offline
  // what the page tells about its connection until the user acts: {kind: "replaced", shared} once
  // the server no longer had this page's session and a new one took its place (session.js)
  connectionNotice: null,
  sessionId: null,

  // the classroom: "presenter" (this page drives its session) or "viewer" (watching a share code)
  role: "presenter",
  // who this browser is to the server (GET /api/v1/identity): classroom mode's teacher or a
  // student; outside classroom mode always the teacher (docs/api.md, "Classroom mode")
  identity: { classroom: false, role: "teacher" },
  share: null, // {code, spoken, url} once the presenter shared, or the watched code for a viewer
  viewers: 0, // viewers watching the session (the server's `audience`)
  // the lesson step the session's presenter shows ({id, step, done}, the server's `lesson`): a
  // viewer's page follows it (js/lessons/panel.js)
  sessionLesson: null,
  projector: false, // projector mode: large type, high contrast, thicker lines
  // the teacher's class this student is in (the session socket's `class` message, docs/protocol.md):
  // {code, name, paused, challenge, ended}, or null outside a class
  enrolment: null,

  config: null, // the server's full config
  network: null, // {layer_sizes, activation, output, input_names}
  dataset: null, // snapshot dataset {name, classes, class_names, planar, extent, train, test}

  state: "idle",
  speedSetting: 0, // steps/s asked for (0 = as fast as possible)
  measuredSpeed: 0, // steps/s the server measured
  step: 0,
  epoch: 0,
  metrics: null,
  params: null, // Layers [{weights, biases}] of typed arrays (layers.js)
  gradients: null, // Layers: gradient of the objective on the last batch
  updates: null, // Layers: the last update applied
  probe: null, // Probe of the chosen sample, typed arrays (layers.js)
  sample: { split: "train", index: 0 }, // the chosen sample (what probe messages ask for)

  heatmaps: null, // {step, resolution, extent, layers: [{min, max}], data: Uint8Array}
  // the learning-rate lab (docs/protocol.md "The learning-rate race", docs/api.md "Learning-rate lab")
  race: null, // {id, status, step, steps, copies, curves: [{steps, loss}], thumbnails: {…, data}}
  lossLine: null, // {status: "running"|"done"|"error", result, error}
  rangeTest: null, // {status: "running"|"done"|"error", result, error}
  history: { steps: [], train: [], test: [], stride: 1, counter: 0, version: 0 },

  selection: null, // {kind: "neuron", column, index} | {kind: "edge", layer, i, j}
  hover: null, // {target: "network", kind, …the neuron or edge} | {target: "boundary", u, v, x, y, point}

  teaching: {
    stepAt: null, // the step count when the current walk began (null: no walk)
    phases: [], // phase messages received in this walk, in order
    last: null, // the latest phase message
    previousParams: null, // weights before the update phase (for the width animation)
    animationStart: 0,
    animationMs: 0,
    auto: false,
    paceMs: 1500,
  },

  diverged: null, // {step, cause, learning_rate, message}
  errors: [], // [{message: {key, vars} or text, time}], see pushError
  gradientCheck: null, // {status: "running"|"done"|"error", result, error}
  parameterCheck: null, // the last parameter_check reply

  runs: { list: [], total: 0, limit: 20, status: null }, // GET /api/v1/runs; status: {key, vars, error}
  // the run this session was opened from, while it stands at the run's saved step:
  // {id, name, savedStep, steps: [..], snapshots: [Layers as served], index}; index < last = replaying
  replay: null,
  surface: {
    // what the picker asks for (docs/api.md, "Loss surface"); span and resolution start at the
    // server's defaults (setOptions); PCA by default: the view that shows descent honestly
    // (measured, static/js/surface.js)
    settings: { directions: "pca", weightMode: "largest", seed: 0, span: null, resolution: null, view3d: false },
    picked: [], // up to two edges {layer, i, j} picked in the network view, oldest first
    picking: false, // clicks on edges in the network view pick the surface's weights
    status: "idle", // idle | computing | done | error
    error: null,
    result: null, // the REST answer: {x, y, loss, trajectory, kind, weights, explained_variance, surface_id, …}
    point: null, // [α, β]: where the current weights lie on the surface shown (frames' surface_point)
  },
};

/** True while the replay shows an earlier snapshot than the saved step (training waits). */
export function isReplaying() {
  const replay = store.replay;
  return replay !== null && replay.index < replay.steps.length - 1;
}

/** Past this many edges (a 6 × 16 network has 1,344) the page draws less often while training. */
export const LARGE_NETWORK_EDGES = 400;

/** Edges of the current network, from its layer sizes. */
function edgeCount() {
  const sizes = store.network?.layer_sizes ?? [];
  let edges = 0;
  for (let l = 1; l < sizes.length; l++) edges += sizes[l - 1] * sizes[l];
  return edges;
}

export function isLargeNetwork() {
  return edgeCount() > LARGE_NETWORK_EDGES;
}

/** A renderer interval: `ms` while training (frames arrive 60 times a second), none otherwise, so
 * a step, a pause or a phase shows at once. `ms` may be a function, asked each time. */
export function whileRunning(ms) {
  const during = typeof ms === "function" ? ms : () => ms;
  return () => (store.state === "running" ? during() : 0);
}

export function markDirty(flags) {
  store.dirty |= flags;
  requestRender();
}

/** The render loop's read: the flags set since the last frame, cleared. */
export function takeDirty() {
  const flags = store.dirty;
  store.dirty = 0;
  return flags;
}

// --- server messages ---------------------------------------------------------------------

/** A hello or snapshot: everything at once. */
export function applySnapshot(snapshot) {
  store.step = snapshot.step ?? 0;
  store.epoch = snapshot.epoch ?? 0;
  store.state = snapshot.state ?? "idle";
  store.speedSetting = snapshot.steps_per_second ?? store.speedSetting;
  store.config = snapshot.config ?? store.config;
  store.metrics = snapshot.metrics ?? null;
  store.network = snapshot.network ?? null;
  store.params = snapshot.params ? flatLayers(snapshot.params) : null;
  store.gradients = null;
  store.updates = null;
  store.dataset = snapshot.dataset ?? null;
  if (snapshot.probe) setProbe(snapshot.probe);
  store.heatmaps = null;
  store.diverged = store.state === "diverged" ? snapshot.diverged ?? store.diverged : null;
  loadHistory(snapshot.history ?? []);
  if (store.replay && store.step !== store.replay.savedStep) store.replay = null; // reset or a new network
  clearTeaching();
  if (!selectionFits()) store.selection = null;
  clearSurface();
  markDirty(DIRTY.all);
}

export function applyFrame(frame) {
  store.step = frame.step ?? store.step;
  store.epoch = frame.epoch ?? store.epoch;
  if (frame.state) store.state = frame.state;
  if (frame.metrics) store.metrics = frame.metrics;
  if (frame.surface_point && frame.surface_id === store.surface.result?.surface_id) {
    store.surface.point = frame.surface_point;
    markDirty(DIRTY.surfacePoint);
  }
  if (frame.params) store.params = frame.params;
  if (frame.gradients) store.gradients = frame.gradients;
  if (frame.updates) store.updates = frame.updates;
  if (frame.probe) setProbe(frame.probe);
  if (Number.isFinite(frame.steps_per_second)) store.measuredSpeed = frame.steps_per_second;
  if (store.replay && store.step !== store.replay.savedStep) {
    store.replay = null; // trained on from the saved step: the run is history now
    markDirty(DIRTY.runs);
  }
  // metrics_step: the step the metrics were evaluated at (behind `step` when many sessions play)
  if (frame.metrics) appendHistory(frame.metrics_step ?? store.step, frame.metrics.train_loss, frame.metrics.test_loss);
  // a step taken outside the walk (play, step, another client) ends the walk
  const teaching = store.teaching;
  if (teaching.stepAt !== null) {
    const walkEnd = teaching.last?.kind === "update" ? teaching.stepAt + 1 : teaching.stepAt;
    if (store.step !== walkEnd) clearTeaching();
  }
  markDirty(DIRTY.params | DIRTY.metrics | DIRTY.history | DIRTY.probe | DIRTY.state);
}

export function applyHeatmaps(message, bytes) {
  store.heatmaps = {
    step: message.step,
    resolution: message.resolution,
    extent: message.extent,
    layers: message.layers,
    data: bytes,
  };
  markDirty(DIRTY.heatmaps);
}

export function applyConfig(config) {
  store.config = config;
  markDirty(DIRTY.config);
}

export function applyState(state, stepsPerSecond) {
  store.state = state;
  if (Number.isFinite(stepsPerSecond)) store.speedSetting = stepsPerSecond;
  if (state !== "diverged") store.diverged = null;
  markDirty(DIRTY.state | DIRTY.notices);
}

export function setProbe(probe) {
  store.probe = flatProbe(probe);
  store.sample = { split: probe.split, index: probe.index };
  markDirty(DIRTY.probe);
}

export function applyPhase(phase) {
  const teaching = store.teaching;
  if (phase.index === 0 || teaching.stepAt === null) {
    teaching.phases = [];
    teaching.stepAt = store.step; // the step count the walk started from
  }
  if (phase.kind === "update") teaching.previousParams = store.params;
  teaching.phases.push(phase);
  teaching.last = phase;
  if (phase.probe) setProbe(phase.probe);
  if (phase.kind === "update" && phase.values) {
    // the update phase carries the new weights; the frame that follows confirms them
    store.params = flatLayers(phase.values.weights.map((weights, layer) => ({ weights, biases: phase.values.biases[layer] })));
    store.updates = flatLayers(
      phase.values.weight_updates.map((weights, layer) => ({ weights, biases: phase.values.bias_updates[layer] })),
    );
  }
  if (phase.kind === "backward" && phase.values) {
    if (!store.gradients || store.gradients.length !== store.params.length) {
      store.gradients = store.params.map(() => null);
    }
    const gradient = { weights: phase.values.weight_gradients, biases: phase.values.bias_gradients };
    store.gradients[phase.layer] = flatLayers([gradient])[0];
  }
  markDirty(DIRTY.teaching | DIRTY.params | DIRTY.probe);
}

export function clearTeaching() {
  const teaching = store.teaching;
  teaching.stepAt = null;
  teaching.phases = [];
  teaching.last = null;
  teaching.previousParams = null;
  teaching.animationMs = 0;
  markDirty(DIRTY.teaching);
}

export function applyDiverged(message) {
  store.diverged = message;
  store.state = "diverged";
  markDirty(DIRTY.notices | DIRTY.state | DIRTY.history);
}

/** How long an error toast shows. */
export const ERROR_MS = 8000;

/**
 * Shows an error toast. `message` is a translation `{ key, vars }` (re-read in the current
 * language whenever it is drawn, so a language switch translates toasts already showing) or,
 * for text that has no translation (the browser's own error text), a plain string.
 */
export function pushError(message) {
  const now = performance.now();
  const text = JSON.stringify(message);
  // the same message again (a retry that failed again) refreshes its toast rather than stacking
  store.errors = store.errors.filter((error) => now - error.time < ERROR_MS && JSON.stringify(error.message) !== text);
  store.errors.push({ message, time: now });
  if (store.errors.length > 4) store.errors.shift();
  markDirty(DIRTY.notices);
}

export function dismissError(error) {
  store.errors = store.errors.filter((other) => other !== error);
  markDirty(DIRTY.notices);
}

// --- loss history ------------------------------------------------------------------------

function loadHistory(points) {
  const history = store.history;
  history.steps = [];
  history.train = [];
  history.test = [];
  history.stride = 1;
  history.counter = 0;
  for (const point of points) {
    history.steps.push(point.step);
    history.train.push(point.train_loss);
    history.test.push(point.test_loss);
  }
  while (history.steps.length > HISTORY_LIMIT) decimateHistory();
  history.version++;
  markDirty(DIRTY.history);
}

/** Keeps one point in `stride`; when the curve is full, halves it and doubles the stride, so the
 * chart always has at most HISTORY_LIMIT points spread over the whole run. */
function appendHistory(step, trainLoss, testLoss) {
  const history = store.history;
  const lastStep = history.steps.length ? history.steps[history.steps.length - 1] : -1;
  if (step <= lastStep) return; // a repeated frame (e.g. after set_parameter) adds no point
  history.counter++;
  if (history.counter % history.stride !== 0) return;
  history.steps.push(step);
  history.train.push(trainLoss ?? null);
  history.test.push(testLoss ?? null);
  if (history.steps.length > HISTORY_LIMIT) {
    decimateHistory();
    history.version++;
  }
}

function decimateHistory() {
  const history = store.history;
  for (const key of ["steps", "train", "test"]) {
    const values = history[key];
    let kept = 0;
    for (let index = 0; index < values.length; index += 2) values[kept++] = values[index];
    values.length = kept;
  }
  history.stride *= 2;
}

// --- selection -----------------------------------------------------------------------------

/** True when the current selection still names a neuron/edge of the current network. */
function selectionFits() {
  const selection = store.selection;
  const sizes = store.network?.layer_sizes;
  if (!selection || !sizes) return false;
  if (selection.kind === "neuron") return selection.column < sizes.length && selection.index < sizes[selection.column];
  return selection.layer + 1 < sizes.length && selection.i < sizes[selection.layer] && selection.j < sizes[selection.layer + 1];
}

export function select(selection) {
  store.selection = selection;
  if (store.surface.picking && selection?.kind === "edge") pickSurfaceEdge(selection);
  store.parameterCheck = null;
  markDirty(DIRTY.selection | DIRTY.checks);
}

export function setHover(hover) {
  store.hover = hover;
  markDirty(DIRTY.hover);
}

// --- page state set by controls and the session ----------------------------------------------

/** GET /api/v1/options, kept as served (options.js reads it). */
export function setOptions(options) {
  store.options = options;
  const settings = store.surface.settings;
  settings.span ??= options.analyses.surface.span.default;
  settings.resolution ??= options.analyses.surface.resolution.default;
  markDirty(DIRTY.config | DIRTY.lang | DIRTY.network);
}

/** An uploaded CSV's reply (POST /api/v1/datasets), kept so its id can be offered and named. */
export function addUpload(result, fileName) {
  store.uploads = {
    ...store.uploads,
    [result.id]: {
      name: fileName,
      classes: result.classes ?? null,
      regression: result.regression,
      features: result.features,
      rows: result.rows,
    },
  };
  markDirty(DIRTY.config);
}

export function setLang(lang) {
  store.lang = lang;
  markDirty(DIRTY.lang);
}

/** The connection's state; session.js decides the transitions (see ConnectionState). */
export function setConnection(state) {
  if (store.connection === state) return;
  store.connection = state;
  markDirty(DIRTY.connection);
}

/** What the page says about its connection (see store.connectionNotice), or null once read. */
export function setConnectionNotice(notice) {
  if (store.connectionNotice === notice) return;
  store.connectionNotice = notice;
  markDirty(DIRTY.connection);
}

/** The session this page drives, and its config when it was created. */
export function setSession(id, config) {
  if (store.role === "presenter" && id !== store.sessionId) {
    store.share = null; // a new session (the server forgot the old one): its code went with it
    store.viewers = 0;
    store.sessionLesson = null;
    markDirty(DIRTY.classroom);
  }
  store.sessionId = id;
  if (config) store.config = config;
  markDirty(DIRTY.config);
}

export function setSpeedSetting(stepsPerSecond) {
  store.speedSetting = stepsPerSecond;
  markDirty(DIRTY.state);
}

/** The sample the probe follows; the server's next probe confirms it. */
export function setSample(split, index) {
  store.sample = { split, index };
  markDirty(DIRTY.probe);
}

export function setGradientCheck(check) {
  store.gradientCheck = check;
  markDirty(DIRTY.checks);
}

/** A parameter check asked for (`pending`), or the server's `parameter_check` reply. */
export function setParameterCheck(check) {
  store.parameterCheck = check;
  markDirty(DIRTY.checks);
}

export function setAutoPhases(auto) {
  store.teaching.auto = auto;
  markDirty(DIRTY.teaching);
}

export function setPhasePace(ms) {
  store.teaching.paceMs = ms;
}

/** A phase arrived: its flow animation starts now and lasts `ms`. */
export function startPhaseAnimation(start, ms) {
  store.teaching.animationStart = start;
  store.teaching.animationMs = ms;
  markDirty(DIRTY.teaching);
}

/** A `race` message (and its thumbnail bytes): every copy's loss is appended to its curve. */
export function applyRace(message, bytes) {
  let race = store.race;
  if (!race || race.id !== message.race) {
    race = { id: message.race, curves: message.copies.map(() => ({ steps: [], loss: [] })), thumbnails: null, version: 0 };
  }
  race.version++;
  message.copies.forEach((copy, index) => {
    const curve = race.curves[index];
    if (curve.steps[curve.steps.length - 1] !== copy.step && copy.loss !== null) {
      curve.steps.push(copy.step);
      curve.loss.push(copy.loss);
    }
  });
  race.status = message.status;
  race.step = message.step;
  race.steps = message.steps;
  race.copies = message.copies;
  if (message.thumbnails && bytes) race.thumbnails = { ...message.thumbnails, data: bytes };
  store.race = race;
  markDirty(DIRTY.lab);
}

export function setLossLine(line) {
  store.lossLine = line;
  markDirty(DIRTY.lab);
}

export function setRangeTest(test) {
  store.rangeTest = test;
  markDirty(DIRTY.lab);
}

// --- saved runs and replay (runs.js drives these) --------------------------------------------

/** A page of GET /api/v1/runs (newest first). */
export function setRuns(page) {
  store.runs = { ...store.runs, list: page.runs, total: page.total, limit: page.limit };
  markDirty(DIRTY.runs);
}

/** Who this browser is to the server: it decides which runs it may rename, delete and publish. */
export function setIdentity(identity) {
  store.identity = identity;
  markDirty(DIRTY.runs | DIRTY.classroom);
}

/** What the runs panel's status line says: a translation `{key, vars}` (error: shown as one). */
export function setRunsStatus(status) {
  store.runs = { ...store.runs, status };
  markDirty(DIRTY.runs);
}

/** A run was opened as this page's session: its snapshots become the replay's timeline, at the end. */
export function startReplay(run) {
  store.replay = {
    id: run.id,
    name: run.name,
    savedStep: run.step,
    steps: run.snapshots.map((snapshot) => snapshot.step),
    snapshots: run.snapshots.map((snapshot) => snapshot.layers),
    index: run.snapshots.length - 1,
  };
  markDirty(DIRTY.runs | DIRTY.state | DIRTY.history);
}

/** The replay moves to snapshot `index`; the session's next frame brings its weights. */
export function setReplayIndex(index) {
  if (!store.replay) return;
  store.replay.index = Math.max(0, Math.min(store.replay.steps.length - 1, index));
  markDirty(DIRTY.runs | DIRTY.state | DIRTY.history);
}

export function endReplay() {
  store.replay = null;
  markDirty(DIRTY.runs | DIRTY.state | DIRTY.history);
}

// --- the classroom ---------------------------------------------------------------------------

/** "presenter" or "viewer" (a page opened at /watch/{code}). */
export function setRole(role) {
  store.role = role;
  markDirty(DIRTY.classroom);
}

/** The share: `{code, spoken, url}` (POST …/share), or null. */
export function setShare(share) {
  store.share = share;
  markDirty(DIRTY.classroom);
}

/** The session socket's `class` message: the class this student is in, paused or not, its
 * challenge, the lesson step the teacher moved it to, and whether it ended. */
export function setEnrolment(message) {
  store.enrolment = {
    code: message.code,
    spoken: message.spoken ?? message.code,
    name: message.name ?? null,
    paused: message.paused === true,
    challenge: message.challenge ?? null,
    lesson: message.lesson ?? null,
    ended: message.ended === true,
  };
  markDirty(DIRTY.classroom | DIRTY.state);
}

/** True while the teacher has paused the class this student is in: Play and Step wait. */
export function classPaused() {
  return store.enrolment !== null && store.enrolment.paused && !store.enrolment.ended;
}

export function setViewers(viewers) {
  store.viewers = viewers;
  markDirty(DIRTY.classroom);
}

export function setSessionLesson(place) {
  store.sessionLesson = place;
  markDirty(DIRTY.classroom);
}

/** How much thicker the views draw their lines: projector mode makes them readable from the back. */
export function lineScale() {
  return store.projector ? 1.75 : 1;
}

/** Projector mode changes the type size and the line widths: every view redraws. */
export function setProjector(on) {
  if (store.projector === on) return;
  store.projector = on;
  markDirty(DIRTY.all);
}

// --- the loss surface ------------------------------------------------------------------------

/** A new network (a snapshot): its old surface lives in another parameter space. The edges
 * picked stay if the new network still has them. */
function clearSurface() {
  const surface = store.surface;
  surface.result = null;
  surface.point = null;
  surface.status = "idle";
  surface.error = null;
  const sizes = store.network?.layer_sizes ?? [];
  surface.picked = surface.picked.filter(
    (edge) => edge.layer + 1 < sizes.length && edge.i < sizes[edge.layer] && edge.j < sizes[edge.layer + 1],
  );
  markDirty(DIRTY.surface | DIRTY.surfacePoint);
}

/** Changes of the direction picker, span, resolution or the 3-D toggle. */
export function setSurfaceSettings(changes) {
  Object.assign(store.surface.settings, changes);
  markDirty(DIRTY.surface);
}

/** Whether clicks on edges in the network view pick the surface's two weights. */
export function setSurfacePicking(picking) {
  store.surface.picking = picking;
  markDirty(DIRTY.surface);
}

/** One more edge for the two-weight surface: the last two picked are the axes. */
export function pickSurfaceEdge(edge) {
  const surface = store.surface;
  const same = (other) => other.layer === edge.layer && other.i === edge.i && other.j === edge.j;
  const picked = surface.picked.filter((other) => !same(other));
  picked.push({ layer: edge.layer, i: edge.i, j: edge.j });
  surface.picked = picked.slice(-2);
  markDirty(DIRTY.surface);
}

export function setSurfaceComputing() {
  store.surface.status = "computing";
  store.surface.error = null;
  markDirty(DIRTY.surface);
}

/** The server's answer: the grid, the trajectory, the plane; the point starts at its centre. */
export function setSurfaceResult(result) {
  const surface = store.surface;
  surface.result = result;
  surface.point = result.trajectory[result.trajectory.length - 1] ?? [0, 0];
  surface.status = "done";
  surface.error = null;
  markDirty(DIRTY.surface | DIRTY.surfacePoint);
}

export function setSurfaceError(message) {
  store.surface.status = "error";
  store.surface.error = message;
  markDirty(DIRTY.surface);
}
