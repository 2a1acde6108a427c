// The WebSocket itself, in a worker: receiving (tens of KB a frame, 60 frames a second for a large
// network) happens off the page's main thread, and frames are passed on latest-wins at most
// `frameHz` times a second — the page draws no faster, and a frame that was overtaken by a newer
// one before the page looked at it is dropped, as the server does for a slow client.
//
// Order is kept: any other message (state, phase, config, heatmaps, …) first flushes the waiting
// frame, so the page sees messages in the order the server sent them.
//
// Main thread → worker: {cmd: "open", url} | {cmd: "send", text} | {cmd: "close", code, reason}
//                       | {cmd: "rate", hz}
// Worker → main thread: {event: "open"} | {event: "text", text} | {event: "binary", buffer}
//                       | {event: "close", code, reason}

let frameHz = 30;
const FRAME_PREFIX = '{"type":"frame"'; // the server writes "type" first in every message

let socket = null;
let pendingFrame = null;
let lastFlush = 0;
let flushTimer = null;

function flushFrame() {
  clearTimeout(flushTimer);
  flushTimer = null;
  if (pendingFrame === null) return;
  postMessage({ event: "text", text: pendingFrame });
  pendingFrame = null;
  lastFlush = performance.now();
}

function receive(data) {
  if (typeof data === "string" && data.startsWith(FRAME_PREFIX)) {
    pendingFrame = data; // a newer frame replaces one the page has not seen yet
    const wait = 1000 / frameHz - (performance.now() - lastFlush);
    if (wait <= 0) flushFrame();
    else if (flushTimer === null) flushTimer = setTimeout(flushFrame, wait);
    return;
  }
  flushFrame();
  if (typeof data === "string") postMessage({ event: "text", text: data });
  else postMessage({ event: "binary", buffer: data }, [data]);
}

function open(url) {
  socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => postMessage({ event: "open" });
  socket.onmessage = (event) => receive(event.data);
  socket.onclose = (event) => {
    flushFrame();
    postMessage({ event: "close", code: event.code, reason: event.reason });
  };
}

onmessage = (event) => {
  const message = event.data;
  if (message.cmd === "open") open(message.url);
  else if (message.cmd === "send" && socket?.readyState === WebSocket.OPEN) socket.send(message.text);
  else if (message.cmd === "close") socket?.close(message.code, message.reason);
  else if (message.cmd === "rate") frameHz = message.hz;
};
