// Server → page: one dispatch table from message type to store change (docs/protocol.md).
// Handlers stay small and never block: heavy work (decoding heatmaps, drawing) happens later
// in the render loop, on the latest data only.

import { api } from "./api.js";
import { send } from "./session.js";
import {
  applyConfig,
  applyDiverged,
  applyFrame,
  applyHeatmaps,
  applyPhase,
  applySnapshot,
  applyState,
  pushError,
  setParameterCheck,
  setParams,
  setProbe,
  setSession,
  store,
} from "./store.js";

const listeners = { phase: [], config: [], snapshot: [], error: [] };

/** Lets a module (teaching mode, settings) react to a message type after the store has it. */
export function onServerMessage(type, listener) {
  listeners[type].push(listener);
}

function notify(type, message) {
  for (const listener of listeners[type] ?? []) listener(message);
}

const EXPECTED_PROTOCOL = Number(document.documentElement.dataset.protocol || 1);

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
    applyFrame(message);
    if (message.state !== "running") refreshExactNumbers();
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
  error(message) {
    pushError(describeServerError(message));
    notify("error", message);
  },
};

/**
 * Frames carry float32 copies of the weights and the probe (bytes matter at 60 frames a second).
 * When training stands still (after a step, a phase's update, a hand-set weight), the page asks
 * again for the chosen sample (`probe`) and the weights (REST), which come in full float64, so
 * what the inspector shows is exactly the engine's number.
 */
function refreshExactNumbers() {
  const step = store.step;
  send({ type: "probe", split: store.sample.split, index: store.sample.index });
  if (!store.sessionId) return;
  api
    .params(store.sessionId)
    .then((params) => {
      if (store.step !== step || store.state === "running" || !store.params) return; // moved on since
      if (params.layers.length !== store.params.length) return;
      setParams(params.layers);
    })
    .catch(() => {}); // the float32 weights stay: still the engine's numbers to 7 digits
}

/** A server error in the reader's language where we know the code, the server's words otherwise. */
function describeServerError(message) {
  const known = ["rate_limited", "read_only", "session_closed", "internal", "bad_json", "unknown_type"];
  if (known.includes(message.code)) return { key: `error.code.${message.code}` };
  return { key: "error.server", vars: { message: message.message ?? "?" } };
}

export function handleServerMessage(message, bytes) {
  const handler = handlers[message.type];
  if (handler) handler(message, bytes);
}
