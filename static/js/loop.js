// The one render loop: changes set dirty flags (store.js), one requestAnimationFrame redraws
// what those flags name. The loop sleeps when nothing is dirty, so an idle page costs nothing.
//
// A renderer is {name, mask, render(flags, now)} and optionally:
//   interval — ms (or a function returning ms): it runs at most once per slot of that length
//              on one clock, so renderers with the same interval update in the same frame (one
//              repaint, not several); what arrives in between is kept for its next run. While
//              training at full speed the server sends 60 frames a second; a table redrawn 60
//              times a second costs the browser frames and tells the eye nothing more.
//   urgent   — flags that skip the wait (a language switch, a resize, a click).
// A renderer in the middle of an animation marks its own flag dirty again, which asks for the
// next frame.

const renderers = [];
let scheduled = false;
let storeRef = null;
let takeFlags = null; // the store's takeDirty: only store.js writes the store
let wakeTimer = null;
let wakeAt = Infinity;

export function registerRenderer(renderer) {
  renderers.push({ interval: 0, urgent: 0, ...renderer, deferred: 0, lastSlot: -1 });
}

export function attachStore(store, takeDirty) {
  storeRef = store;
  takeFlags = takeDirty;
}

export function requestRender() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(frame);
}

/** One frame at `time` (performance.now() clock), for renderers waiting out their interval. */
function wakeLater(time) {
  if (time >= wakeAt) return;
  clearTimeout(wakeTimer);
  wakeAt = time;
  wakeTimer = setTimeout(() => {
    wakeAt = Infinity;
    requestRender();
  }, Math.max(0, time - performance.now()));
}

function frame(now) {
  scheduled = false;
  const flags = takeFlags();
  for (let index = 0; index < renderers.length; index++) {
    const renderer = renderers[index];
    const relevant = (renderer.mask & flags) | renderer.deferred;
    if (relevant === 0) continue;
    const interval = typeof renderer.interval === "function" ? renderer.interval() : renderer.interval;
    const slot = interval > 0 ? Math.floor(now / interval) : -1;
    if (interval > 0 && slot === renderer.lastSlot && (relevant & renderer.urgent) === 0) {
      renderer.deferred = relevant;
      wakeLater((slot + 1) * interval);
      continue;
    }
    renderer.deferred = 0;
    renderer.lastSlot = slot;
    try {
      renderer.render(relevant, now);
    } catch (error) {
      // one broken renderer must not stop the others; the console shows it for developers
      console.error(`renderer ${renderer.name} failed`, error);
    }
  }
  if (storeRef.dirty !== 0) requestRender();
}
