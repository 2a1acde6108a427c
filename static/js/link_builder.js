// The lesson-link builder (docs/lessons.md, "Lesson links"): a teacher picks what the link opens
// (this network, a lesson step, or the shared session to watch), the pace, the panels shown and
// the language, and copies the URL. The URL is the page's own address format (url_state.js), so
// opening it goes through the ordinary paths: the config to a new session of the student's own,
// the pace to pace.js, the panels to link_params.js.

import { t } from "./i18n.js";
import { lessonKey, loadCatalogue, loadLesson } from "./lessons/catalogue.js";
import { hiddenPanels, PANELS } from "./link_params.js";
import { registerRenderer } from "./loop.js";
import { uiRange } from "./options.js";
import { speedLabel } from "./pace.js";
import { DIRTY, store } from "./store.js";
import { hashFor } from "./url_state.js";

const byId = (id) => document.getElementById(id);
const WATCH = "watch"; // the start that opens the shared session for viewers
const HERE = ""; // the start that opens the main page with this network

let lessons = []; // [{id, number, steps}] once the catalogue is in
let lessonsLoading = null; // the catalogue's load, started when the builder first opens

function option(value, text) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  return element;
}

/** Rebuilds a select's options, keeping its choice when it still exists. */
function fill(select, options, fallback) {
  const chosen = select.value || fallback;
  select.replaceChildren(...options);
  select.value = options.some((item) => item.value === chosen) ? chosen : options[0]?.value ?? "";
}

function renderStarts() {
  const starts = [option(HERE, t("link.start_here"))];
  if (store.share) starts.push(option(WATCH, t("link.start_watch", { code: store.share.spoken })));
  for (const lesson of lessons) {
    for (let step = 1; step <= lesson.steps; step += 1) {
      const title = `${t(lessonKey(lesson.id, "title"))} · ${t(lessonKey(lesson.id, "title", step))}`;
      starts.push(option(`${lesson.id}/${step}`, t("link.start_lesson", { number: lesson.number, step, title })));
    }
  }
  fill(byId("link-start"), starts, placeHere());
}

/** The start that opens what this page shows: its lesson step (`lesson/step`), else this network. */
function placeHere() {
  const step = window.location.pathname.match(/^\/lessons\/([^/]+)\/(\d+)$/);
  return step ? `${step[1]}/${step[2]}` : HERE;
}

function renderPaces() {
  const presets = uiRange("steps_per_second").presets ?? [0];
  fill(byId("link-pace"), presets.map((pace) => option(String(pace), speedLabel(pace))), String(store.speedSetting));
}

function renderPanels() {
  const fieldset = byId("link-panels");
  for (const name of Object.keys(PANELS)) {
    let box = byId(`link-panel-${name}`);
    if (!box) {
      const label = document.createElement("label");
      label.className = "inline-field";
      box = document.createElement("input");
      box.type = "checkbox";
      box.id = `link-panel-${name}`;
      box.dataset.testid = `link-panel-${name}`;
      box.dataset.panel = name;
      box.checked = !hiddenPanels().includes(name); // a page opened from a link starts from that link's panels
      box.addEventListener("change", renderUrl);
      label.append(box, document.createElement("span"));
      fieldset.append(label);
    }
    box.nextElementSibling.textContent = t(PANELS[name].title);
  }
}

/** The URL the choices make. */
export function builtUrl() {
  const start = byId("link-start").value;
  const hide = Object.keys(PANELS).filter((name) => !byId(`link-panel-${name}`).checked);
  const lang = byId("link-lang").value;
  const projector = byId("link-projector").checked;
  const pace = Number(byId("link-pace").value);
  if (start === WATCH && store.share) {
    // a viewer follows the presenter's network and pace: only the panels, language and projector
    return new URL(hashFor({}, lang, projector, hide), store.share.url).href;
  }
  const path = start === HERE ? "/" : `/lessons/${start}`;
  const config = start === HERE ? store.config ?? {} : {}; // a lesson step sets up its own network
  return new URL(path + hashFor(config, lang, projector, hide, pace), window.location.origin).href;
}

function renderUrl() {
  const url = builtUrl();
  const field = byId("link-url");
  if (field.value !== url) field.value = url;
  byId("link-copied").textContent = "";
}

async function copy() {
  const field = byId("link-url");
  let copied = true;
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    copied = false; // no clipboard here (an insecure origin): the link stays selected to copy by hand
  }
  field.focus();
  field.select();
  byId("link-copied").textContent = t(copied ? "link.copied" : "link.copy_by_hand");
}

/** Opens or closes the builder; closed, the focus goes back to the button that opened it. */
function toggle() {
  const button = byId("link-builder-button");
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  byId("link-builder").hidden = !open;
  if (!open) {
    button.focus();
    return;
  }
  byId("link-lang").value = store.lang;
  byId("link-projector").checked = store.projector;
  lessonsLoading ??= loadLessons(); // not on every page load: most pages never open the builder
  renderStarts();
  renderPaces();
  renderUrl();
  byId("link-start").focus();
}

async function loadLessons() {
  try {
    const catalogue = await loadCatalogue();
    const files = await Promise.all(catalogue.lessons.map(loadLesson));
    lessons = files.map((lesson) => ({ id: lesson.id, number: lesson.number, steps: lesson.steps.length }));
  } catch (error) {
    lessons = []; // the builder still makes links to this network
    console.warn(error.message);
  }
  if (!byId("link-builder").hidden) {
    renderStarts();
    renderUrl();
  }
}

export function initLinkBuilder() {
  const button = byId("link-builder-button");
  if (!button) return; // a viewer's page has no builder
  button.addEventListener("click", toggle);
  for (const id of ["link-start", "link-pace", "link-lang", "link-projector"]) byId(id).addEventListener("change", renderUrl);
  byId("link-copy").addEventListener("click", copy);
  byId("link-builder").addEventListener("keydown", (event) => { // Escape closes it, as a dialog
    if (event.key !== "Escape" || event.defaultPrevented) return;
    event.preventDefault();
    toggle();
  });
  registerRenderer({
    name: "link-builder",
    mask: DIRTY.lang | DIRTY.config | DIRTY.classroom,
    render(flags) {
      renderPanels();
      if (byId("link-builder").hidden) return;
      if (flags & (DIRTY.lang | DIRTY.classroom)) {
        renderStarts();
        renderPaces();
      }
      renderUrl();
    },
  });
}
