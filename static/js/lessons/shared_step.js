// The presenter's side of a viewer following a lesson (docs/protocol.md, `lesson`): the page tells
// its session which lesson step it shows and whether that step's task is met, and a page that is
// on no lesson step clears what an earlier page of the session said. The server tells every client
// of the session, so the viewers' lesson panels (panel.js) follow the presenter.

import { registerRenderer } from "../loop.js";
import { send } from "../session.js";
import { DIRTY, store } from "../store.js";

let sent = ""; // what this page last told its session (the session's id with it: a new session hears it again)

/** `lessonPage`: the lesson panel's `{place(), done()}` on a lesson step's page, else null. */
export function initSharedStep(lessonPage) {
  if (store.role === "viewer") return;
  registerRenderer({
    name: "shared-lesson-step",
    mask: DIRTY.connection | DIRTY.classroom | DIRTY.lang | DIRTY.metrics | DIRTY.checks | DIRTY.teaching
      | DIRTY.heatmaps | DIRTY.selection | DIRTY.history | DIRTY.lab | DIRTY.state | DIRTY.notices,
    render() {
      if (store.connection !== "open") return;
      const place = lessonPage?.place();
      const wanted = place ? { id: place.lesson, step: place.step, done: lessonPage.done() } : null;
      if (JSON.stringify(wanted) === JSON.stringify(store.sessionLesson)) return; // the session knows
      const key = `${store.sessionId}|${JSON.stringify(wanted)}`;
      if (key === sent) return; // on its way
      sent = key;
      send({ type: "lesson", lesson: wanted });
    },
  });
}
