// The session's lifecycle in the browser: create it over REST, open its socket, and when the
// socket drops, reconnect to the same id (the server keeps it 10 minutes) or, if the server
// refuses that id, start a new session with the same config. After a reconnect the view is
// restored: the chosen sample, the speed, and play if it was playing.
//
//   connecting ──open──▶ open ──drop──▶ reconnecting ──open──▶ open
//                                            └──server gone──▶ offline (keeps retrying)

import { api, ApiError } from "./api.js";
import { SessionSocket } from "./socket.js";
import { DIRTY, markDirty, store } from "./store.js";

const RETRY_MS = [300, 1000, 2000, 4000, 8000];

export const Status = Object.freeze({
  connecting: "connecting",
  open: "open",
  reconnecting: "reconnecting",
  offline: "offline",
});

let socket = null;
let onMessage = () => {};
let attempts = 0;
let retryTimer = null;
let resumePlaying = false;
let hadHello = false;
let frameHz = 30;

function setStatus(status) {
  if (store.connection === status) return;
  store.connection = status;
  markDirty(DIRTY.connection);
}

/** Starts the page's session with `config` (from the URL); `handler(message, bytes)` gets
 * every server message. Falls back to the defaults if the URL's config is refused. */
export async function startSession(config, handler, reportError) {
  onMessage = handler;
  setStatus(Status.connecting);
  let created;
  try {
    created = await api.createSession(config);
  } catch (error) {
    if (error instanceof ApiError && error.status === 422 && Object.keys(config).length) {
      reportError(error.message);
      created = await api.createSession({});
    } else {
      throw error;
    }
  }
  store.sessionId = created.id;
  store.config = created.config;
  markDirty(DIRTY.config);
  connect(created.id);
}

function connect(sessionId) {
  hadHello = false;
  const opened = new SessionSocket(sessionId, {
    onOpen: () => {
      attempts = 0;
      setStatus(Status.open);
    },
    onMessage: (message, bytes) => {
      if (message.type === "hello") {
        hadHello = true;
        onMessage(message, bytes);
        restoreView();
        return;
      }
      onMessage(message, bytes);
    },
    onClose: ({ opened }) => {
      socket = null;
      if (opened || hadHello) resumePlaying = resumePlaying || store.state === "running";
      setStatus(Status.reconnecting);
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
  const id = store.sessionId;
  try {
    await api.getSession(id);
    connect(id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      // the server forgot this session (expired, restarted): a new one with the same config
      try {
        const created = await api.createSession(store.config ?? {});
        store.sessionId = created.id;
        connect(created.id);
      } catch {
        setStatus(Status.offline);
        scheduleReconnect();
      }
    } else {
      setStatus(Status.offline);
      scheduleReconnect();
    }
  }
}

/** After a (re)connect: ask again for the chosen sample and speed, and play if it was playing. */
function restoreView() {
  const sample = store.sample;
  if (sample && (sample.split !== "train" || sample.index !== 0)) {
    send({ type: "probe", split: sample.split, index: sample.index });
  }
  if (resumePlaying) {
    if (store.speedSetting) send({ type: "speed", steps_per_second: store.speedSetting });
    send({ type: "play" });
  }
  resumePlaying = false;
}

/** Sends a client message if connected; returns its id or null. */
export function send(message) {
  return socket ? socket.send(message) : null;
}

/** Test hook: drops the socket as a network failure would (the page then reconnects). */
export function dropConnection() {
  socket?.drop();
}
