// A student's page while they are in the teacher's class (the session socket's `class` message,
// docs/protocol.md): a small note that the teacher can see this network, the class's challenge
// if the teacher set one, a notice while the teacher has paused the class (controls.js disables
// Play and Step meanwhile), and a word once the class ended.

import { setText } from "./dom.js";
import { t } from "./i18n.js";
import { registerRenderer } from "./loop.js";
import { challengeText } from "./class/words.js";
import { DIRTY, store } from "./store.js";

const byId = (id) => document.getElementById(id);

function show(element, shown) {
  if (element.hidden === shown) element.hidden = !shown;
}

export function initClassNote() {
  const note = byId("class-note");
  const noteText = byId("class-note-text");
  const challenge = byId("class-challenge");
  const pausedNotice = byId("class-paused-notice");
  const ended = byId("class-ended");
  registerRenderer({
    name: "class-note",
    mask: DIRTY.classroom | DIRTY.lang,
    render() {
      const enrolment = store.enrolment;
      const inClass = enrolment !== null && !enrolment.ended;
      show(note, inClass);
      show(pausedNotice, inClass && enrolment.paused);
      show(ended, enrolment !== null && enrolment.ended);
      show(challenge, inClass && enrolment.challenge !== null);
      if (!enrolment) return;
      const words = enrolment.name
        ? t("class_note.in_class_named", { name: enrolment.name, code: enrolment.spoken })
        : t("class_note.in_class", { code: enrolment.spoken });
      setText(noteText, words); // text, never markup: the name is the student's own typing
      if (enrolment.challenge) setText(challenge, t("class_note.challenge", { goal: challengeText(enrolment.challenge) }));
    },
  });
}
