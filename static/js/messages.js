// Server → page: one dispatch table from message type to store change (docs/protocol.md).
// Handlers stay small and never block: heavy work (decoding heatmaps, drawing) happens later
// in the render loop, on the latest data only.

import {
  applyConfig,
  applyDiverged,
  applyFrame,
  applyHeatmaps,
  applyPhase,
  applyRace,
  applySnapshot,
  applyState,
  pushError,
  setParameterCheck,
  setProbe,
  setSession,
  setEnrolment,
  setSessionLesson,
  setViewers,
  store,
} from "./store.js";
import { has } from "./i18n.js";
import { explain } from "./refusals.js";

const listeners = { phase: [], config: [], snapshot: [], error: [], frame: [] };

/** Lets a module (teaching mode, settings) react to a message type after the store has it. */
export function onServerMessage(type, listener) {
  listeners[type].push(listener);
}

function notify(type, message) {
  for (const listener of listeners[type] ?? []) listener(message);
}

const EXPECTED_PROTOCOL = Number(document.documentElement.dataset.protocol || 3);

const handlers = {
  hello(message) {
    if (message.protocol !== EXPECTED_PROTOCOL) {
      pushError({ key: "error.protocol", vars: { page: EXPECTED_PROTOCOL, server: message.protocol } });
    }
    if (message.session_id) setSession(message.session_id);
    applySnapshot(message.snapshot);
    notify("snapshot", message.snapshot);
  },
  snapshot(message) {
    applySnapshot(message);
    notify("snapshot", message);
  },
  frame(message) {
    // decoded by the socket's worker: typed arrays, float64 (the engine's exact numbers) once
    // training stands still, so the inspector needs no second request for them
    applyFrame(message);
    notify("frame", message);
  },
  heatmaps(message, bytes) {
    if (bytes) applyHeatmaps(message, bytes);
  },
  config(message) {
    applyConfig(message.config);
    notify("config", message);
  },
  state(message) {
    applyState(message.state, message.steps_per_second);
  },
  phase(message) {
    applyPhase(message);
    notify("phase", message);
  },
  probe(message) {
    setProbe(message.probe);
  },
  parameter_check(message) {
    setParameterCheck(message);
  },
  diverged(message) {
    applyDiverged(message);
  },
  race(message, bytes) {
    applyRace(message, bytes);
  },
  class(message) {
    setEnrolment(message);
  },
  audience(message) {
    setViewers(message.viewers);
  },
  lesson(message) {
    setSessionLesson(message.lesson);
  },
  error(message) {
    pushError(describeServerError(message));
    notify("error", message);
  },
};

/** A server error in the reader's language: a refused field with its reason (refusals.js),
 * else by its code; never the server's English `message`, which is for scripts. */
function describeServerError(message) {
  if (typeof message.reason === "string") return { key: "error.refused", vars: { message: () => explain(message) } };
  const code = typeof message.code === "string" ? message.code : "";
  return { key: has(`error.code.${code}`) ? `error.code.${code}` : "error.code.other" };
}

export function handleServerMessage(message, bytes) {
  const handler = handlers[message.type];
  if (handler) handler(message, bytes);
}
