// One WebSocket to one session (docs/protocol.md): JSON text messages both ways, and binary
// heatmap payloads announced by the JSON `heatmaps` message just before them.
//
// This module only frames messages. Reconnecting, falling back to a new session and restoring
// the view belong to session.js; what a message means belongs to the store.

export class SessionSocket {
  /**
   * @param {string} sessionId
   * @param {{onOpen: Function, onMessage: Function, onClose: Function}} handlers
   */
  constructor(sessionId, handlers) {
    this.sessionId = sessionId;
    this.handlers = handlers;
    this.nextId = 1;
    this.pendingHeatmaps = null; // the JSON half of a heatmaps message, waiting for its bytes
    this.opened = false;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.ws = new WebSocket(`${scheme}//${window.location.host}/ws/sessions/${encodeURIComponent(sessionId)}`);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => {
      this.opened = true;
      handlers.onOpen();
    };
    this.ws.onmessage = (event) => this.receive(event.data);
    this.ws.onclose = (event) => handlers.onClose({ code: event.code, reason: event.reason, opened: this.opened });
  }

  receive(data) {
    if (typeof data !== "string") {
      const announced = this.pendingHeatmaps;
      this.pendingHeatmaps = null;
      if (announced) this.handlers.onMessage(announced, new Uint8Array(data));
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // the protocol promises JSON; a broken message is dropped rather than crash the page
    }
    if (message.type === "heatmaps") {
      this.pendingHeatmaps = message;
      return;
    }
    this.handlers.onMessage(message, null);
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a client message; returns its id (replies carry it as `reply_to`), or null if closed. */
  send(message) {
    if (!this.isOpen) return null;
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...message, id }));
    return id;
  }

  close() {
    this.handlers = { onOpen() {}, onMessage() {}, onClose() {} };
    this.ws.close(1000);
  }
}
