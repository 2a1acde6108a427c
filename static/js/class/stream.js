// The class stream: `/ws/classes/{code}` (teacher only; docs/protocol.md, "The class page") sends
// the class view at once and then four times a second. A dropped socket is opened again after a
// pause that grows; a class that no longer exists (ended in another tab, a restarted server)
// empties the page, which then offers to open a class.

import { api, ApiError } from "../api.js";
import { setConnection, setView } from "./state.js";

const RETRY_MS = [300, 1000, 2000, 4000, 8000];
const CLASS_KEY = "backprop-lab.class"; // the code of the class this browser streamed last

/** The class this browser streamed last (its code), or null. */
export function rememberedClass() {
  try {
    return window.localStorage.getItem(CLASS_KEY);
  } catch {
    return null; // storage refused: the teacher presses "Open a class", which answers with the open one
  }
}

function remember(code) {
  try {
    if (code) window.localStorage.setItem(CLASS_KEY, code);
    else window.localStorage.removeItem(CLASS_KEY);
  } catch {
    // as above
  }
}

let socket = null;
let streamed = null; // the class code streamed, or null
let attempts = 0;
let retryTimer = null;

function url(code) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/ws/classes/${encodeURIComponent(code)}`;
}

function open(code) {
  socket = new WebSocket(url(code));
  socket.addEventListener("open", () => {
    attempts = 0;
    setConnection("open");
  });
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type !== "class" || streamed !== code) return;
    if (message.ended) {
      endStream(); // ended elsewhere (another tab of the teacher's, a script)
      setView(null);
      return;
    }
    setView(message);
  });
  socket.addEventListener("close", () => {
    if (streamed !== code) return; // closed on purpose
    setConnection("reconnecting");
    retryTimer = setTimeout(() => retry(code), RETRY_MS[Math.min(attempts++, RETRY_MS.length - 1)]);
  });
}

/** Before opening again: is the class still there? */
async function retry(code) {
  try {
    setView(await api.getClass(code));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      endStream();
      setView(null);
      return;
    }
  }
  if (streamed === code) open(code);
}

export function streamClass(code) {
  if (streamed === code) return;
  stopStream();
  streamed = code;
  remember(code);
  setConnection("connecting");
  open(code);
}

function stopStream() {
  streamed = null;
  clearTimeout(retryTimer);
  socket?.close();
  socket = null;
  setConnection("closed");
}

/** The class ended: stop streaming it and forget its code. */
export function endStream() {
  stopStream();
  remember(null);
}
