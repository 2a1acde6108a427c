// The lesson files (docs/lessons.md): static/lessons/catalogue.json lists the lessons in order,
// static/lessons/{lesson}.json holds one lesson's steps. Their texts are translation keys named by
// the lesson's id and the step's number, in static/i18n/{en,id}.json.

const version = document.documentElement.dataset.version ?? "";

async function load(name) {
  const response = await fetch(`/static/lessons/${name}.json?v=${version}`);
  if (!response.ok) throw new Error(`static/lessons/${name}.json: HTTP ${response.status}`);
  return response.json();
}

export function loadCatalogue() {
  return load("catalogue");
}

export async function loadLesson(id) {
  return { id, ...(await load(id)) };
}

/** The translation key of a lesson's text `part` (title, summary), or of a step's (title, text, task). */
export function lessonKey(id, part, step = null) {
  return step === null ? `lesson.${id}.${part}` : `lesson.${id}.${step}.${part}`;
}
