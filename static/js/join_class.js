// /join: a student joins the teacher's class with its code and a first name (docs/classroom.md).
// The server checks both (POST /api/v1/join) and says what is wrong with a stable code, which
// refusals.js words in the student's language; once in, the student goes on to their own
// network, which from then on belongs to the class.

import { api } from "./api.js";
import { addressLanguage, setLanguage, t } from "./i18n.js";
import { explain } from "./refusals.js";

const form = document.getElementById("class-join-form");
const codeInput = document.getElementById("class-join-code");
const nameInput = document.getElementById("class-join-name");
const button = document.getElementById("class-join-button");
const problem = document.getElementById("class-join-problem");

/** The refused field (the server's 422 names it) is marked invalid and focused. */
function showProblem(error) {
  problem.textContent = explain(error); // text, never markup
  const field = Array.isArray(error.detail) ? String(error.detail[0]?.field ?? error.detail[0]?.loc?.at(-1) ?? "") : "";
  const input = field === "name" ? nameInput : codeInput;
  for (const other of [codeInput, nameInput]) other.setAttribute("aria-invalid", String(other === input));
  input.focus();
}

async function join(event) {
  event.preventDefault();
  button.disabled = true;
  problem.textContent = "";
  try {
    await api.joinClass(codeInput.value, nameInput.value);
    window.location.assign(`/${window.location.hash}`); // their own network, in the class now
  } catch (error) {
    button.disabled = false;
    showProblem(error);
  }
}

async function main() {
  form.addEventListener("submit", join);
  (codeInput.value ? nameInput : codeInput).focus();
  try {
    await setLanguage(addressLanguage());
  } catch (error) {
    console.warn(error);
  }
  document.title = t("class_join.page_title");
}

main();
