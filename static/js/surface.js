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

import { api } from "./api.js";
import { onServerMessage } from "./messages.js";
import { explain } from "./refusals.js";
import { setSurfaceComputing, setSurfaceError, setSurfaceResult, store } from "./store.js";

const EDGE_SHARE = 0.85; // |α| or |β| past this share of the span asks for a new slice
// While training, at most one new slice a second: each one is a redraw of the whole plot (a long
// task of ~30–70 ms here), and a slice a second already follows the walk.
const RUNNING_GAP_MS = 1000;

let active = false; // the panel has been seen: surfaces are worth computing
let inFlight = false;
let again = false; // a request came in while one was computing
let lastAnswer = -Infinity; // performance.now() when the last answer came
let waitTimer = null; // a request held back by RUNNING_GAP_MS

/** The request body of the current settings (docs/api.md). */
function requestBody() {
  const { settings, picked } = store.surface;
  const body = { directions: settings.directions, span: settings.span, resolution: settings.resolution };
  if (settings.directions === "random") body.seed = settings.seed;
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
    const result = await api.lossSurface(sessionId, requestBody());
    if (sessionId === store.sessionId) setSurfaceResult(result);
  } catch (error) {
    setSurfaceError(explain(error)); // the reader's words, not the server's English
  } finally {
    inFlight = false;
    lastAnswer = performance.now();
  }
  if (again) requestSurface();
}

/** True when `point` is near the edge of the slice `result` shows. */
function nearEdge(point, result) {
  const limit = EDGE_SHARE * result.span;
  return Math.abs(point[0]) > limit || Math.abs(point[1]) > limit;
}

function onFrame() {
  const { result, point, status } = store.surface;
  if (!result || !point || status !== "done" || store.state !== "running") return;
  if (nearEdge(point, result)) requestSurface();
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
