// The page's connection to the server, as one explicit state machine: load the server's options
// (everything the page offers comes from them), create the session over REST, open its socket;
// when the socket drops, reconnect to the same id (the server keeps it 10 minutes) or, if the
// server has forgotten that id (a restart, an expiry), start a new session with the same config.
// After every hello the page asks for its pace (pace.js); after a reconnect the view is restored:
// the chosen sample, and play if it was playing. A new session in place of a forgotten one does
// not play by itself: the page says what happened (store.connectionNotice) and waits for Play,
// so a class is never surprised by a network training on its own from step 0. The session id is
// kept in the tab's sessionStorage, so a reload (or a laptop waking up) comes back to the same
// session rather than a new one; not in the URL, since an id is the key to control a session and
// a copied link should reproduce a setup, not hand over the session.
//
//   connecting ──socket open──▶ open ──socket closed──▶ reconnecting ──socket open──▶ open
//       │  ▲                                                │   ▲
//       ▼  │ retry                                          ▼   │ retry
//     offline ◀── options / session / socket unreachable ── offline
//
// A transition the table below does not list is a bug and throws, naming both states (as
// Starlette's WebSocketState guards do). The `connection-status` badge shows the state.

import { api, ApiError } from "./api.js";
import { chosenPace } from "./pace.js";
import { explain } from "./refusals.js";
import { SessionSocket } from "./socket.js";
import {
  pushError, setConnection, setConnectionNotice, setOptions, setSession, setSpeedSetting, store,
} from "./store.js";

const RETRY_MS = [300, 1000, 2000, 4000, 8000];
const SESSION_KEY = "backprop-lab.session";

function rememberSession(id) {
  try {
    window.sessionStorage.setItem(SESSION_KEY, id);
  } catch {
    // storage refused (private mode, quota): a reload then starts a new session
  }
}

function rememberedSession() {
  try {
    return window.sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

/** The session this tab drove before a reload, if the server still has it. */
async function resumeRemembered() {
  const id = rememberedSession();
  if (!id) return null;
  try {
    return await api.getSession(id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null; // expired, or the server restarted
    throw error;
  }
}

export const ConnectionState = Object.freeze({
  CONNECTING: "connecting", // loading the options, creating the session, opening its first socket
  OPEN: "open", // the socket is open: the page trains and shows the session
  RECONNECTING: "reconnecting", // the socket dropped; reopening it (or a new session) is under way
  OFFLINE: "offline", // the server did not answer; trying again after a pause
});

/** From each state, the states it may go to. */
const TRANSITIONS = Object.freeze({
  [ConnectionState.CONNECTING]: Object.freeze([ConnectionState.OPEN, ConnectionState.RECONNECTING, ConnectionState.OFFLINE]),
  [ConnectionState.OPEN]: Object.freeze([ConnectionState.RECONNECTING]),
  // a socket that fails to open while reconnecting closes again: still reconnecting
  [ConnectionState.RECONNECTING]: Object.freeze([ConnectionState.OPEN, ConnectionState.RECONNECTING, ConnectionState.OFFLINE]),
  [ConnectionState.OFFLINE]: Object.freeze([ConnectionState.CONNECTING, ConnectionState.OPEN, ConnectionState.RECONNECTING, ConnectionState.OFFLINE]),
});

export class ConnectionStateError extends Error {
  constructor(from, to) {
    super(`the connection cannot go from "${from}" to "${to}"`);
    this.from = from;
    this.to = to;
  }
}

let state = ConnectionState.CONNECTING;

/** The connection's state now (one of ConnectionState). */
export function connectionState() {
  return state;
}

function transition(to) {
  if (!TRANSITIONS[state].includes(to)) throw new ConnectionStateError(state, to);
  state = to;
  setConnection(to);
}

let socket = null;
let watching = null; // the share code this page watches (a viewer), or null
let onMessage = () => {};
let attempts = 0;
let retryTimer = null;
let resumePlaying = false;
let hadHello = false;
let frameHz = 30;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `task` until it succeeds. After each failure the connection is offline, the error shows
 * in the reader's language (`errorKey` with the failure's message) and the next try waits longer.
 */
async function untilItWorks(task, errorKey) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      transition(ConnectionState.OFFLINE);
      pushError({ key: errorKey, vars: { message: () => explain(error) } });
      await sleep(Math.min(8000, 500 * 2 ** attempt));
      transition(ConnectionState.CONNECTING);
    }
  }
}

/** GET /api/v1/options, until the server answers: the page draws nothing that needs it before. */
export async function loadOptions() {
  setOptions(await untilItWorks(() => api.options(), "error.options"));
}

/**
 * Creates the session with `config` (from the URL; the defaults if the server refuses it) and
 * opens its socket; or, given `existing` (the id of a session made for this page, a fork), opens
 * that one if the server still has it. `handler(message, bytes)` gets every server message.
 */
export async function startSession(config, handler, reportError, existing = null) {
  onMessage = handler;
  const created = await untilItWorks(async () => {
    if (existing) {
      try {
        return await api.getSession(existing);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        existing = null; // gone (expired, a restarted server): a new session instead
      }
    }
    const resumed = await resumeRemembered();
    if (resumed) return resumed;
    try {
      return await api.createSession(config);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 422 && Object.keys(config).length)) throw error;
      reportError({ key: "error.link_config", vars: { message: () => explain(error) } });
      return api.createSession({});
    }
  }, "error.start");
  setSession(created.id, created.config);
  connect(created.id);
}

/** Drives another session from now on (one opened from a saved run): the old socket closes for
 * good (the server keeps that session its usual while), the new one opens. */
export function switchSession(id, config) {
  clearTimeout(retryTimer);
  socket?.close();
  socket = null;
  resumePlaying = false;
  setConnectionNotice(null);
  setSession(id, config);
  if (state === ConnectionState.OPEN) transition(ConnectionState.RECONNECTING);
  connect(id);
}

/**
 * Watches the session a share code names, read-only: its socket only, no session of our own.
 * When the socket drops the page reconnects to the same code while the server knows it.
 */
export function watchSession(code, handler) {
  onMessage = handler;
  watching = code;
  connect(null);
}

function socketPath(sessionId) {
  return watching ? `/ws/watch/${encodeURIComponent(watching)}` : `/ws/sessions/${encodeURIComponent(sessionId)}`;
}

function connect(sessionId) {
  hadHello = false;
  if (!watching) rememberSession(sessionId);
  const opened = new SessionSocket(socketPath(sessionId), {
    onOpen: () => {
      attempts = 0;
      transition(ConnectionState.OPEN);
    },
    onMessage: (message, bytes) => {
      if (message.type === "hello") {
        hadHello = true;
        // a cluster's worker died and another went on from its checkpoint: the same session, a
        // few steps back (docs/protocol.md, `moved_from`)
        if (message.moved_from != null) setConnectionNotice({ kind: "moved", step: message.moved_from });
        onMessage(message, bytes);
        restoreView(message.snapshot);
        return;
      }
      onMessage(message, bytes);
    },
    onClose: ({ opened }) => {
      socket = null;
      if (opened || hadHello) resumePlaying = resumePlaying || store.state === "running";
      transition(ConnectionState.RECONNECTING);
      scheduleReconnect();
    },
  });
  opened.setFrameRate(frameHz);
  socket = opened;
}

/** How many frames a second the page takes while training (the newest win; see socket_worker.js). */
export function setFrameRate(hz) {
  frameHz = hz;
  socket?.setFrameRate(hz);
}

function scheduleReconnect() {
  clearTimeout(retryTimer);
  const delay = RETRY_MS[Math.min(attempts, RETRY_MS.length - 1)];
  attempts++;
  retryTimer = setTimeout(reconnect, delay);
}

async function reconnect() {
  if (watching) {
    try {
      await api.shareInfo(watching);
      connect(null);
    } catch (error) {
      transition(ConnectionState.OFFLINE);
      if (error instanceof ApiError && error.status === 404) {
        pushError({ key: "error.share_ended" }); // the presenter's session is gone: nothing to wait for
        return;
      }
      scheduleReconnect();
    }
    return;
  }
  const id = store.sessionId;
  try {
    await api.getSession(id);
    connect(id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      // the server forgot this session (expired, restarted): a new one with the same config
      try {
        const created = await api.createSession(store.config ?? {});
        const shared = store.share !== null; // setSession drops the old code: it ended with its session
        resumePlaying = false; // a new network at step 0 waits for the teacher's Play
        setSession(created.id);
        setConnectionNotice({ kind: "replaced", shared });
        connect(created.id);
      } catch {
        transition(ConnectionState.OFFLINE);
        scheduleReconnect();
      }
    } else {
      transition(ConnectionState.OFFLINE);
      scheduleReconnect();
    }
  }
}

/** After a hello: ask for this page's pace (a new session starts at the protocol's "max") and the
 * chosen sample, and play again if the same session was playing when its socket dropped. */
function restoreView(snapshot) {
  if (watching) return; // a viewer shows the presenter's pace and sample, and never plays
  const pace = chosenPace();
  setSpeedSetting(pace);
  if (snapshot?.steps_per_second !== pace) send({ type: "speed", steps_per_second: pace });
  const sample = store.sample;
  if (sample && (sample.split !== "train" || sample.index !== 0)) {
    send({ type: "probe", split: sample.split, index: sample.index });
  }
  if (resumePlaying) send({ type: "play" });
  resumePlaying = false;
}

/** Sends a client message if connected; returns its id or null. A viewer sends nothing: the
 * server would refuse every control message of a read-only view. */
export function send(message) {
  return socket && !watching ? socket.send(message) : null;
}

/** Test hook: drops the socket as a network failure would (the page then reconnects). */
export function dropConnection() {
  socket?.drop();
}
