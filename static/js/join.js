// /watch: the form where a student types a share code (docs/product.md, "Classroom"). Typing is
// forgiving, as the server's is: any case, spaces and dashes.

import { initialLanguage, setLanguage, t } from "./i18n.js";

const ALPHABET = "ACEFHKMNPRTWXY34789"; // server/shares.py: no look-alikes

function normalise(text) {
  const code = text.replace(/[\s-]/g, "").toUpperCase();
  return code.length === 6 && [...code].every((char) => ALPHABET.includes(char)) ? code : null;
}

async function main() {
  try {
    await setLanguage(initialLanguage(new URLSearchParams(window.location.hash.slice(1)).get("lang")));
  } catch (error) {
    console.warn(error);
  }
  const unknown = document.getElementById("join-unknown");
  if (unknown) unknown.textContent = t("join.unknown", { code: unknown.dataset.code }); // text, never markup
  const form = document.getElementById("join-form");
  const input = document.getElementById("join-code");
  const problem = document.getElementById("join-problem");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = normalise(input.value);
    if (!code) {
      problem.textContent = t("join.invalid");
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    window.location.assign(`/watch/${code}${window.location.hash}`);
  });
  input.focus();
}

main();
