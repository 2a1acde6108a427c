// /watch: the form where a student types a share code (docs/product.md, "Classroom"). Typing is
// forgiving, as the server's is: any case, spaces and dashes.

import { addressLanguage, has, setLanguage, t } from "./i18n.js";

const ALPHABET = "ACEFHKMNPRTWXY34789"; // server/live/share_codes.py: no look-alikes

function normalise(text) {
  const code = text.replace(/[\s-]/g, "").toUpperCase();
  return code.length === 6 && [...code].every((char) => ALPHABET.includes(char)) ? code : null;
}

function main() {
  // The form is live before the words are translated: a student who types fast and presses Enter
  // is never sent to the plain form submission (which the server also understands, /watch?code=).
  const form = document.getElementById("join-form");
  const input = document.getElementById("join-code");
  const problem = document.getElementById("join-problem");
  form.addEventListener("submit", (event) => {
    const code = normalise(input.value);
    if (!code && !has("join.invalid")) return; // words not loaded yet: the server's answer says it
    event.preventDefault();
    if (!code) {
      problem.textContent = t("join.invalid");
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    window.location.assign(`/watch/${code}${window.location.hash}`);
  });
  input.focus();
  translate();
}

async function translate() {
  try {
    await setLanguage(addressLanguage());
  } catch (error) {
    console.warn(error);
  }
  document.title = t("join.page_title"); // the tab's name, in the student's language too
  const unknown = document.getElementById("join-unknown");
  if (unknown) unknown.textContent = t("join.unknown", { code: unknown.dataset.code }); // text, never markup
}

main();
