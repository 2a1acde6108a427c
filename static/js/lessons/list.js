// /lessons: the list of lessons, translated and switchable live, each with how many of its steps
// this browser has done, and a link back to the step open last (js/lessons/progress.js).

import { addressLanguage, currentLanguage, setLanguage, t } from "../i18n.js";
import { doneCount, progress } from "./progress.js";

const languageSelect = document.getElementById("language-select");

function showProgress() {
  for (const item of document.querySelectorAll(".lesson-item")) {
    const steps = Number(item.dataset.steps);
    const done = doneCount(item.dataset.lesson, steps);
    item.querySelector(".lesson-done").textContent = t("lessons.list_progress", { done, steps });
    item.dataset.done = String(done);
  }
  const at = progress().at;
  const resume = document.getElementById("lesson-resume");
  if (at && document.querySelector(`.lesson-item[data-lesson="${CSS.escape(at.split("/")[0])}"]`)) {
    resume.querySelector("a").href = `/lessons/${at}`;
    resume.hidden = false;
  }
}

async function switchLanguage(lang) {
  try {
    await setLanguage(lang);
  } catch (error) {
    console.warn(error);
  }
  languageSelect.value = currentLanguage();
  document.title = t("lessons.page_title");
  showProgress();
}

languageSelect.addEventListener("change", () => switchLanguage(languageSelect.value));
switchLanguage(addressLanguage());
