// The WebSocket itself, in a worker: receiving and decoding (a frame's arrays come as a binary
// message after its JSON, 60 frames a second) happen off the page's main thread, and frames are
// passed on latest-wins at most `frameHz` times a second — the page draws no faster, and a frame
// that was overtaken by a newer one before the page looked at it is dropped, as the server does
// for a slow client.
//
// A frame is decoded here (frame_codec.js) into typed-array views of its binary, which is then
// transferred to the page, not copied. A frame without some block (the server sends the weights
// every frame but the gradients, updates and probe only when re-evaluated) takes that block
// from the frame it overtakes, so dropping a frame never loses numbers the page has not seen.
// A frame whose binary is missing, too short, or does not match its index is dropped (the page
// hears of it as {event: "dropped"}) and the stream goes on.
//
// Order is kept: any other message (state, phase, config, heatmaps, …) first flushes the waiting
// frame, so the page sees messages in the order the server sent them.
//
// Main thread → worker: {cmd: "open", url} | {cmd: "send", text} | {cmd: "close", code, reason}
//                       | {cmd: "rate", hz}
// Worker → main thread: {event: "open"} | {event: "text", text} | {event: "binary", buffer}
//                       | {event: "frame", frame} | {event: "dropped", reason}
//                       | {event: "close", code, reason}

import { decodeFrame } from "./frame_codec.js";

let frameHz = 30;
const FRAME_PREFIX = '{"type":"frame"'; // the server writes "type" first in every message
const BLOCKS = ["params", "gradients", "updates", "probe"];

let socket = null;
let announced = null; // a frame's JSON whose binary is the next message
let pending = null; // {frame, buffers: Set<ArrayBuffer>}: the newest frame the page has not seen
let lastFlush = 0;
let flushTimer = null;

function flushFrame() {
  clearTimeout(flushTimer);
  flushTimer = null;
  if (pending === null) return;
  postMessage({ event: "frame", frame: pending.frame }, [...pending.buffers]);
  pending = null;
  lastFlush = performance.now();
}

function dropped(reason) {
  postMessage({ event: "dropped", reason });
}

/** A decoded frame waits for its turn; it replaces the one waiting, keeping that one's blocks
 * it lacks itself. */
function queueFrame(frame, buffer) {
  const buffers = new Set(buffer ? [buffer] : []);
  if (pending !== null) {
    for (const name of BLOCKS) {
      if (frame[name] === undefined && pending.frame[name] !== undefined) {
        frame[name] = pending.frame[name];
        for (const kept of pending.buffers) buffers.add(kept);
      }
    }
  }
  pending = { frame, buffers };
  const wait = 1000 / frameHz - (performance.now() - lastFlush);
  if (wait <= 0) flushFrame();
  else if (flushTimer === null) flushTimer = setTimeout(flushFrame, wait);
}

function acceptFrame(message, buffer) {
  let frame;
  try {
    frame = decodeFrame(message, buffer);
  } catch (error) {
    dropped(`frame at step ${message.step}: ${error.message}`);
    return;
  }
  queueFrame(frame, buffer);
}

function receive(data) {
  if (announced !== null) {
    const message = announced;
    announced = null;
    if (typeof data !== "string") {
      acceptFrame(message, data);
      return;
    }
    dropped(`frame at step ${message.step}: its binary message is missing`); // and read `data` on
  }
  if (typeof data === "string" && data.startsWith(FRAME_PREFIX)) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      dropped("a frame that is not JSON");
      return;
    }
    if (message.arrays) announced = message;
    else acceptFrame(message, null);
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
    if (announced !== null) dropped(`frame at step ${announced.step}: the socket closed before its binary`);
    announced = null;
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
