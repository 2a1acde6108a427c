// A student's lesson progress in this browser (localStorage), so a reload or a later visit carries
// on: the step last open (`at`, "lesson/step") and every step whose task was met (`done`).

const STORAGE_KEY = "backprop-lab.lessons";

function read() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (saved && typeof saved === "object" && typeof saved.done === "object") return saved;
  } catch {
    // storage unavailable or damaged: start again
  }
  return { at: null, done: {} };
}

function write(progress) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(progress));
  } catch {
    // storage unavailable: the lesson still works, it is only not remembered
  }
}

export function stepKey(lesson, step) {
  return `${lesson}/${step}`;
}

export function progress() {
  return read();
}

export function rememberAt(lesson, step) {
  write({ ...read(), at: stepKey(lesson, step) });
}

export function rememberDone(lesson, step) {
  const saved = read();
  if (saved.done[stepKey(lesson, step)]) return;
  write({ ...saved, done: { ...saved.done, [stepKey(lesson, step)]: true } });
}

/** How many of a lesson's `steps` steps have their task met. */
export function doneCount(lesson, steps) {
  const done = read().done;
  let count = 0;
  for (let step = 1; step <= steps; step++) if (done[stepKey(lesson, step)]) count++;
  return count;
}
