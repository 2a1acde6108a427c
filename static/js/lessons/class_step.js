// A student's page in a class the teacher leads through a lesson (docs/classroom.md, "Leading a
// lesson"): when the session socket's `class` message names a lesson step the page has not yet
// followed, the page goes there (the lesson panel moves in place within the same lesson; any other
// page opens /lessons/{lesson}/{step} on the same session); and once a step's task is met the page
// tells the class (POST /api/v1/join/progress), so the teacher's class page can mark it.
//
// Each step the teacher chooses is followed once per tab (sessionStorage): a student who then
// walks on with Next is not pulled back until the teacher moves the class again.

import { api } from "../api.js";
import { registerRenderer } from "../loop.js";
import { DIRTY, store } from "../store.js";

const FOLLOWED_KEY = "backprop-lab.class-step";
const reported = new Set(); // "code/lesson/step" this page told the class

function inClass() {
  return store.enrolment !== null && !store.enrolment.ended;
}

function followed() {
  try {
    return sessionStorage.getItem(FOLLOWED_KEY);
  } catch {
    return null; // storage unavailable: follow every `class` message's step
  }
}

function rememberFollowed(key) {
  try {
    sessionStorage.setItem(FOLLOWED_KEY, key);
  } catch {
    // storage unavailable: the next page load follows the step again, harmlessly
  }
}

/** Tells the class that this step's task is met, once per class and step. */
export function reportDone(lesson, step) {
  if (!inClass()) return;
  const key = `${store.enrolment.code}/${lesson}/${step}`;
  if (reported.has(key)) return;
  reported.add(key);
  api.reportProgress(lesson, step).catch((error) => console.warn("the class did not hear the task done", error));
}

/** `lessonPage`: the lesson panel's `{place(), moveTo(step)}` on a lesson step's page, else null. */
export function initClassStep(lessonPage) {
  registerRenderer({
    name: "class-step",
    mask: DIRTY.classroom,
    render() {
      const wanted = inClass() ? store.enrolment.lesson : null;
      if (!wanted) return;
      const key = `${store.enrolment.code}/${wanted.id}/${wanted.step}`;
      if (followed() === key) return;
      rememberFollowed(key);
      const place = lessonPage?.place();
      if (place && place.lesson === wanted.id) {
        if (place.step !== wanted.step) lessonPage.moveTo(wanted.step);
        return;
      }
      const session = store.sessionId ? `?session=${encodeURIComponent(store.sessionId)}` : "";
      window.location.assign(`/lessons/${encodeURIComponent(wanted.id)}/${wanted.step}${session}`);
    },
  });
}
