// The loss surface's requests: when to ask the server for a slice (POST …/loss-surface) and with
// what. The panel's controls call these; the answers go to the store, the renderer
// (render/surface.js) draws them. One request at a time: a change made while one computes is
// asked for when it ends, so a dragged span never queues a pile of grids on the server.
//
// While training, slices are at least RUNNING_GAP_MS apart (a request in between waits its turn).
// A surface is asked for when the panel first scrolls into view, when a setting changes, when
// the network is rebuilt (a snapshot), on the "re-centre" button, and by itself while training
// when the current point comes within EDGE_SHARE of the slice's edge: the walk has left the
// region the slice shows, so a new slice is centred on where it is now.
//
// A slice never lies about where the network is. Every frame's real training loss is compared
// with the slice's loss under the dot (the grid, bilinear): the slice holds two directions
// through the weights it was centred on, and when the other weights move (they always do) the
// network leaves the plane and the dot can sit on a higher contour while the real loss falls.
// Past DRIFT_SHARE apart the slice "has drifted": while training it re-centres by itself (at most
// one slice a second), paused the panel says so in plain words and offers to re-centre. The path
// walked since the slice was made is kept too (`livePath`), so the trajectory extends live.
//
// The default view is the trajectory's PCA (store.js): measured on the default classifier
// (tanh [4, 2], circle, η 0.03), a slice centred at step 1,000 / 2,000 / 3,000 and the real loss
// 200 steps later: PCA 0.359 vs slice 0.443 / 0.073 vs 0.077 / 0.030 vs 0.031; two weights
// 0.467 / 0.086 / 0.035; random 0.487 / 0.090 / 0.035 (the two-weight and random slices stay
// flat under a falling loss, PCA's follow it, and PCA holds the walk so far in its plane). Until
// the walk spreads in two directions (step 0: no trajectory) PCA cannot be made, and two random
// directions through the current weights stand in (`fallback`), PCA again at the next re-centre.

import { api } from "./api.js";
import { onServerMessage } from "./messages.js";
import { explain } from "./refusals.js";
import { DIRTY, markDirty, setSurfaceComputing, setSurfaceError, setSurfaceResult, store } from "./store.js";

const EDGE_SHARE = 0.85; // |α| or |β| past this share of the span asks for a new slice
// While training, at most one new slice a second: each one is a redraw of the whole plot (a long
// task of ~30–70 ms here), and a slice a second already follows the walk.
const RUNNING_GAP_MS = 1000;
// The slice's loss under the dot and the real training loss differ by more than this share:
// beyond what the grid's interpolation errs (well under 1 % near the centre of a 41 × 41 slice).
const DRIFT_SHARE = 0.1;
// The trajectory records every step at first: from step 2 it holds θ₀, θ₁, θ₂, two offsets from the
// centre, which PCA needs (fewer, and the server refuses it: 422 at `directions`).
const PCA_MIN_STEPS = 2;
const LIVE_PATH_LIMIT = 2000; // points kept of the walk since the slice was made; then every other

let drift = null; // {real, slice, step} when the slice no longer holds the current weights
let fallback = false; // PCA asked for, random shown (no trajectory yet)
let livePath = []; // [[α, β], …] of the walk since the slice shown was made
let livePathFor = null; // the surface id the path belongs to

let active = false; // the panel has been seen: surfaces are worth computing
let inFlight = false;
let again = false; // a request came in while one was computing
let lastAnswer = -Infinity; // performance.now() when the last answer came
let waitTimer = null; // a request held back by RUNNING_GAP_MS

/** The request body of the current settings (docs/api.md); `directions` overrides the setting. */
function requestBody(directions = store.surface.settings.directions) {
  const { settings, picked } = store.surface;
  const body = { directions, span: settings.span, resolution: settings.resolution };
  if (directions === "random") body.seed = settings.seed;
  if (settings.directions === "weights" && settings.weightMode === "picked" && picked.length === 2) {
    body.weights = picked.map((edge) => [edge.layer, edge.i, edge.j]);
  }
  return body;
}

/** Asks for a slice through the current weights with the current settings. */
export async function requestSurface() {
  if (!store.sessionId || !active) return;
  if (inFlight) {
    again = true;
    return;
  }
  const wait = store.state === "running" ? lastAnswer + RUNNING_GAP_MS - performance.now() : 0;
  if (wait > 0) {
    setSurfaceComputing(); // asked for: the panel says so while it waits its turn
    waitTimer ??= setTimeout(() => {
      waitTimer = null;
      requestSurface();
    }, wait);
    return;
  }
  inFlight = true;
  again = false;
  setSurfaceComputing();
  const sessionId = store.sessionId;
  try {
    const result = await sliceOrStandIn(sessionId);
    if (sessionId === store.sessionId) {
      drift = null;
      setSurfaceResult(result);
    }
  } catch (error) {
    setSurfaceError(explain(error)); // the reader's words, not the server's English
  } finally {
    inFlight = false;
    lastAnswer = performance.now();
  }
  if (again) requestSurface();
}

/** The slice of the settings; PCA refused for want of a trajectory gives two random directions
 * through the current weights instead (`fallback`), so a fresh network still shows a surface. */
async function sliceOrStandIn(sessionId) {
  fallback = store.surface.settings.directions === "pca" && store.step < PCA_MIN_STEPS;
  if (fallback) return api.lossSurface(sessionId, requestBody("random")); // asking would be refused
  try {
    return await api.lossSurface(sessionId, requestBody());
  } catch (error) {
    const field = error.detail?.[0]?.loc?.at?.(-1);
    if (store.surface.settings.directions !== "pca" || error.status !== 422 || field !== "directions") throw error;
    fallback = true;
    return api.lossSurface(sessionId, requestBody("random"));
  }
}

/** Whether PCA was asked for and two random directions stand in (no trajectory yet). */
export function isFallback() {
  return fallback && store.surface.result?.kind === "random";
}

/** {real, slice, step} when the slice shown no longer holds the current weights, else null. */
export function sliceDrift() {
  return drift;
}

/** The walk since the slice shown was made, [[α, β], …] from its centre (empty for another slice). */
export function walkSinceSlice() {
  return livePathFor === store.surface.result?.surface_id ? livePath : [];
}

/** The slice's loss at (α, β): bilinear between the grid's four corners; null off the grid, NaN
 * where a corner is not finite. loss[i][j] is at x[i], y[j]. */
export function sliceLossAt(result, alpha, beta) {
  const { x, y, loss } = result;
  const step = x[1] - x[0];
  const fi = (alpha - x[0]) / step;
  const fj = (beta - y[0]) / step;
  if (!(fi >= 0 && fj >= 0 && fi <= x.length - 1 && fj <= y.length - 1)) return null;
  const i = Math.min(Math.floor(fi), x.length - 2);
  const j = Math.min(Math.floor(fj), y.length - 2);
  const u = fi - i;
  const v = fj - j;
  const corners = [loss[i][j], loss[i + 1][j], loss[i][j + 1], loss[i + 1][j + 1]];
  if (corners.some((value) => value === null || !Number.isFinite(value))) return NaN;
  return (1 - u) * (1 - v) * corners[0] + u * (1 - v) * corners[1] + (1 - u) * v * corners[2] + u * v * corners[3];
}

/** The frame's real training loss against the slice's under its point: {real, slice, step} past
 * DRIFT_SHARE apart (or the point off the slice), null while they agree. Only a frame whose
 * metrics are of its own step is compared (metrics_step). */
function driftOf(frame, result) {
  const real = frame.metrics?.train_loss;
  const metricsStep = frame.metrics_step ?? frame.step;
  if (!Number.isFinite(real) || metricsStep !== frame.step) return drift;
  const [alpha, beta] = frame.surface_point;
  const slice = sliceLossAt(result, alpha, beta);
  if (Number.isNaN(slice)) return drift; // an overflowed corner: nothing to compare with here
  if (slice !== null && Math.abs(slice - real) <= DRIFT_SHARE * Math.max(Math.abs(real), 1e-12)) return null;
  return { real, slice, step: frame.step };
}

function extendPath(result, point) {
  if (livePathFor !== result.surface_id) {
    livePathFor = result.surface_id;
    livePath = [[0, 0]]; // the slice's centre: where its recorded trajectory ends
  }
  const last = livePath[livePath.length - 1];
  if (last[0] === point[0] && last[1] === point[1]) return;
  livePath.push([point[0], point[1]]);
  if (livePath.length > LIVE_PATH_LIMIT) livePath = livePath.filter((_, k) => k % 2 === 0 || k === livePath.length - 1);
}

/** True when `point` is near the edge of the slice `result` shows. */
function nearEdge(point, result) {
  const limit = EDGE_SHARE * result.span;
  return Math.abs(point[0]) > limit || Math.abs(point[1]) > limit;
}

function onFrame(frame) {
  const { result, point, status } = store.surface;
  if (!result || !point || !frame.surface_point || frame.surface_id !== result.surface_id) return;
  extendPath(result, point);
  const before = drift;
  drift = driftOf(frame, result);
  if (Boolean(before) !== Boolean(drift) || (drift && before && drift.step !== before.step)) markDirty(DIRTY.surface);
  if (status !== "done" || store.state !== "running") return;
  if (drift || nearEdge(point, result)) requestSurface(); // following the walk: re-centre by itself
}

/** Starts asking for surfaces once `panel` has been on screen (nothing is computed for a page
 * that never shows it). */
export function initSurfaceRequests(panel) {
  onServerMessage("frame", onFrame);
  onServerMessage("snapshot", () => {
    if (active) requestSurface();
  });
  const start = () => {
    if (active) return;
    active = true;
    requestSurface();
  };
  if (!("IntersectionObserver" in window)) {
    start();
    return;
  }
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) {
      observer.disconnect();
      start();
    }
  });
  observer.observe(panel);
}
