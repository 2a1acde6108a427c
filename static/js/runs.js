// Saved runs (docs/api.md, "Saved runs"): save this session under a name, list, open, rename,
// tag and annotate, delete, import a document, compare the runs ticked in the list, and replay an
// opened run through its weight snapshots.
//
// Replay works on the live session a run was opened as (POST /api/v1/runs/{id}/session): moving
// the scrubber puts that snapshot's weights into the session (PUT …/params), so the network,
// the boundary, the metrics and the heatmaps all come from the server as usual, computed by the
// engine — the page computes nothing itself. The last snapshot is the saved step's weights, bit
// for bit: going back to it (or leaving the replay) leaves the session exactly as saved, and its
// training can carry on. Scrubbing sends at most one request at a time; the newest position wins.

import { api } from "./api.js";
import { explain } from "./refusals.js";
import { switchSession } from "./session.js";
import { rememberUpload } from "./settings.js";
import {
  DIRTY,
  endReplay,
  isReplaying,
  markDirty,
  setIdentity,
  setReplayIndex,
  setRuns,
  setRunsStatus,
  startReplay,
  store,
} from "./store.js";

const PAGE = 20;
let shownLimit = PAGE;
let sending = null; // the Promise of the PUTs of replay weights under way
let wanted = null; // {sessionId, index} the scrubber asked for and not yet sent
const selected = new Set(); // the ids of the runs ticked to compare
let comparison = null; // the GET /api/v1/runs/compare answer shown, or null

/** Where a run's export document and its metrics CSV download from (the server names the files). */
export const exportHref = (id) => api.exportUrl(id);
export const csvHref = (id) => api.metricsCsvUrl(id);

function failed(key, error) {
  setRunsStatus({ key, vars: { message: explain(error) }, error: true });
}

/** GET /api/v1/runs: the newest `shownLimit` runs. */
export async function refreshRuns() {
  try {
    setRuns(await api.listRuns(0, shownLimit));
  } catch (error) {
    failed("runs.error_list", error);
  }
}

/** GET /api/v1/identity: the teacher may publish runs to the class (classroom mode). */
export async function loadIdentity() {
  try {
    setIdentity(await api.identity());
  } catch {
    // the server's default view of us stands: the list still says which runs are ours
  }
}

/** Show a run to the whole class, or to its owner only again (the teacher, classroom mode). */
export async function publishRun(id, name, published) {
  try {
    await api.publishRun(id, published);
    setRunsStatus({ key: published ? "runs.published_status" : "runs.unpublished_status", vars: { name } });
    await refreshRuns();
  } catch (error) {
    failed("runs.error_publish", error);
  }
}

/** One more page of older runs. */
export function showMoreRuns() {
  shownLimit += PAGE;
  return refreshRuns();
}

export async function saveRun(name) {
  const trimmed = name.trim();
  if (!trimmed) {
    setRunsStatus({ key: "runs.name_needed", error: true });
    return false;
  }
  try {
    const saved = await api.saveRun(store.sessionId, trimmed);
    setRunsStatus({ key: "runs.saved", vars: { name: saved.name, step: saved.step } });
    await refreshRuns();
    return true;
  } catch (error) {
    failed("runs.error_save", error);
    return false;
  }
}

export async function renameRun(id, name) {
  try {
    const renamed = await api.renameRun(id, name.trim());
    setRunsStatus({ key: "runs.renamed", vars: { name: renamed.name } });
    await refreshRuns();
  } catch (error) {
    failed("runs.error_rename", error);
  }
}

/** The tags a person typed: separated by commas, each trimmed, empty ones and repeats dropped. */
export function parseTags(text) {
  return [...new Set(text.split(",").map((tag) => tag.trim()).filter((tag) => tag))];
}

/** Set a run's tags (typed as "a, b") and note. */
export async function organiseRun(id, tagsText, note) {
  try {
    const changed = await api.organiseRun(id, parseTags(tagsText), note);
    setRunsStatus({ key: "runs.organised", vars: { name: changed.name } });
    await refreshRuns();
    return true;
  } catch (error) {
    failed("runs.error_organise", error);
    return false;
  }
}

export const isSelected = (id) => selected.has(id);
export const selectedCount = () => selected.size;
export const shownComparison = () => comparison;

/** Tick (or untick) a run for the next comparison. */
export function selectRun(id, on) {
  if (on) selected.add(id);
  else selected.delete(id);
  markDirty(DIRTY.runs);
}

/** GET /api/v1/runs/compare of the ticked runs, in the list's order: drawn by runs_compare.js. */
export async function compareSelected() {
  const ids = store.runs.list.map((run) => run.id).filter((id) => selected.has(id));
  try {
    comparison = await api.compareRuns(ids);
    setRunsStatus({ key: "runs.compared", vars: { n: ids.length } });
  } catch (error) {
    failed("runs.error_compare", error);
  }
  markDirty(DIRTY.runs);
}

export function closeComparison() {
  comparison = null;
  markDirty(DIRTY.runs);
}

export async function deleteRun(id, name) {
  try {
    await api.deleteRun(id);
    selected.delete(id);
    if (store.replay?.id === id) endReplay();
    setRunsStatus({ key: "runs.deleted", vars: { name } });
    await refreshRuns();
  } catch (error) {
    failed("runs.error_delete", error);
  }
}

/** Reads a document chosen in the file picker and imports it as a new run. */
export async function importRun(file) {
  let document;
  try {
    document = JSON.parse(await file.text());
  } catch (error) {
    failed("runs.error_import", error);
    return;
  }
  try {
    const imported = await api.importRun(document);
    setRunsStatus({ key: "runs.imported", vars: { name: imported.name } });
    await refreshRuns();
  } catch (error) {
    failed("runs.error_import", error);
  }
}

/** Opens a run as this page's live session, at its saved step, with its timeline to replay. */
export async function openRun(id) {
  try {
    const [session, run] = await Promise.all([api.openRun(id), api.getRun(id)]);
    wanted = null;
    if (run.upload) await offerUpload(session, run.upload);
    switchSession(session.id, session.config);
    startReplay(run);
    setRunsStatus({ key: "runs.opened", vars: { name: run.name, step: run.step } });
  } catch (error) {
    failed("runs.error_open", error);
  }
}

/** A run of an uploaded CSV brings its table back under a new id: the data set list offers it. */
async function offerUpload(session, fileName) {
  const dataset = await api.dataset(session.id);
  const rows = dataset.train.points.length + dataset.test.points.length;
  rememberUpload({ id: session.config.dataset, classes: dataset.classes, regression: dataset.regression,
    features: dataset.features, rows }, fileName);
}

/** The scrubber moved to snapshot `index`: that snapshot's weights into the session. */
export function scrubTo(index) {
  if (!store.replay) return;
  setReplayIndex(index);
  wanted = { sessionId: store.sessionId, index: store.replay.index };
  sending ??= sendWanted().finally(() => {
    sending = null;
  });
}

async function sendWanted() {
  while (wanted && store.replay) {
    const { sessionId, index } = wanted;
    wanted = null;
    try {
      await api.setParams(sessionId, store.replay.snapshots[index]);
    } catch (error) {
      failed("runs.error_replay", error);
    }
  }
}

/** Back to the saved step (the last snapshot, bit for bit), and the replay bar closes. */
export async function leaveReplay() {
  if (!store.replay) return;
  if (isReplaying()) scrubTo(store.replay.steps.length - 1);
  await sending;
  endReplay();
}
