// The one render loop: changes set dirty flags (store.js), one requestAnimationFrame redraws
// what those flags name. A renderer is {mask, render(flags, now)}; it runs when a flag in its mask
// is dirty. A renderer in the middle of an animation marks its own flag dirty again, which asks
// for the next frame.
//
// The loop sleeps when nothing is dirty, so an idle page costs nothing. For the benchmark the
// page can count frames: `window.__backpropLab.fps` (bench/browser_fps.py) starts its own
// requestAnimationFrame counter, separate from this loop.

const renderers = [];
let scheduled = false;
let storeRef = null;

export function registerRenderer(renderer) {
  renderers.push(renderer);
}

export function attachStore(store) {
  storeRef = store;
}

export function requestRender() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(frame);
}

function frame(now) {
  scheduled = false;
  const flags = storeRef.dirty;
  storeRef.dirty = 0;
  for (let index = 0; index < renderers.length; index++) {
    const renderer = renderers[index];
    if ((renderer.mask & flags) !== 0) {
      try {
        renderer.render(flags, now);
      } catch (error) {
        // one broken renderer must not stop the others; the console shows it for developers
        console.error(`renderer ${renderer.name} failed`, error);
      }
    }
  }
  if (storeRef.dirty !== 0) requestRender();
}
