// One WebSocket to one session (docs/protocol.md): JSON text messages both ways, and binary
// payloads announced by the JSON message just before them (`heatmaps`; a `frame`'s arrays, which
// the worker decodes into typed arrays and hands over as one message).
//
// The socket lives in a worker (socket_worker.js) so receiving never blocks drawing; this class is
// its main-thread side. It only frames messages: reconnecting, falling back to a new session and
// restoring the view belong to session.js; what a message means belongs to messages.js.

const WORKER_URL = new URL("./socket_worker.js", import.meta.url);

export class SessionSocket {
  /**
   * @param {string} path the endpoint: `/ws/sessions/{id}`, or `/ws/watch/{code}` for a viewer
   * @param {{onOpen: Function, onMessage: Function, onClose: Function}} handlers
   */
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.nextId = 1;
    this.pendingHeatmaps = null; // the JSON half of a heatmaps message, waiting for its bytes
    this.dropped = 0; // damaged messages skipped (see noteDropped)
    this.lastDropWarning = -Infinity;
    this.opened = false;
    this.closed = false;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.worker = new Worker(WORKER_URL, { type: "module", name: "session-socket" });
    this.worker.onmessage = (event) => this.fromWorker(event.data);
    this.worker.postMessage({
      cmd: "open",
      url: `${scheme}//${window.location.host}${path}`,
    });
  }

  fromWorker(message) {
    switch (message.event) {
      case "open":
        this.opened = true;
        this.handlers.onOpen();
        break;
      case "text":
        this.receive(message.text);
        break;
      case "binary":
        this.receiveBinary(message.buffer);
        break;
      case "frame":
        this.handlers.onMessage(message.frame, null);
        break;
      case "dropped":
        this.noteDropped(message.reason);
        break;
      case "close":
        this.closed = true;
        this.worker.terminate();
        this.handlers.onClose({ code: message.code, reason: message.reason, opened: this.opened });
        break;
      default:
    }
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return; // the protocol promises JSON; a broken message is dropped rather than crash the page
    }
    if (message.type === "heatmaps" || (message.type === "race" && message.thumbnails)) {
      this.pendingHeatmaps = message; // its bytes come next
      return;
    }
    this.handlers.onMessage(message, null);
  }

  receiveBinary(buffer) {
    const announced = this.pendingHeatmaps;
    this.pendingHeatmaps = null;
    if (!announced) return this.noteDropped("a binary message that no message announced");
    if (buffer.byteLength !== announced.bytes) return this.noteDropped("binary bytes that do not match their message");
    this.handlers.onMessage(announced, new Uint8Array(buffer));
  }

  /** A damaged message was skipped (the stream goes on); the console says so, once in a while. */
  noteDropped(reason) {
    this.dropped++;
    const now = performance.now();
    if (now - this.lastDropWarning < 10_000) return;
    this.lastDropWarning = now;
    console.warn(`skipped a damaged message (${this.dropped} so far): ${reason}`);
  }

  get isOpen() {
    return this.opened && !this.closed;
  }

  /** Sends a client message; returns its id (replies carry it as `reply_to`), or null if closed. */
  send(message) {
    if (!this.isOpen) return null;
    const id = this.nextId++;
    this.worker.postMessage({ cmd: "send", text: JSON.stringify({ ...message, id }) });
    return id;
  }

  /** At most `hz` frames a second reach the page (the newest; the others are dropped). */
  setFrameRate(hz) {
    this.worker.postMessage({ cmd: "rate", hz });
  }

  /** Closes for good: no reconnect follows. */
  close() {
    this.handlers = { onOpen() {}, onMessage() {}, onClose() {} };
    this.worker.postMessage({ cmd: "close", code: 1000, reason: "" });
  }

  /** Closes as a network failure would (a test hook): the session reconnects. */
  drop() {
    this.worker.postMessage({ cmd: "close", code: 4000, reason: "dropped for a test" });
  }
}
