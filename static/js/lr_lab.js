// The learning-rate lab's requests: the race (socket), the loss line and the range test (REST),
// and applying a suggested rate. The lab's renderer wires its buttons to these; the requests
// and the store changes happen here, so no renderer calls the server or writes the store.

import { api } from "./api.js";
import { JobCancelled, jobProgress, runJob } from "./jobs.js";
import { onServerMessage } from "./messages.js";
import { analysis, inRange, range } from "./options.js";
import { send } from "./session.js";
import { changeConfig } from "./settings.js";
import { explain } from "./refusals.js";
import { applyRace, pushError, setLossLine, setRangeTest, store } from "./store.js";

// The line spans the server's default multiple of the current rate, or WIDENING times more while
// its lowest point is still its last, up to the largest multiple the server takes: a rate far
// too small (on a plateau the bottom of the U can lie 100–1,000 × the rate away) should show
// where the bottom is, not a slope that goes on falling. The view draws a wide line on a log axis,
// so the current rate stays on the chart beside the minimum.
const WIDENING = 4;
// A line reaching past this multiple of the current rate is asked for log-spaced and drawn on a
// log axis: on an even grid and a linear axis the current rate would sit in the first pixels.
const LOG_LINE_FROM = 16;

/** How many rates one sweep job takes (the server's `jobs.max_rates`; a live race takes fewer). */
function sweepCopies() {
  const race = analysis("race").copies ?? {};
  return { ...race, max: Math.max(race.max ?? 0, store.options?.jobs?.max_rates ?? 0) };
}

/** The rates typed into the race form (spaces or semicolons between them; a decimal comma
 * is read as a point), or null when they are not as many learning rates as a race or a sweep
 * job takes. */
export function parseRates(text) {
  const parts = text.split(/[\s;]+/).filter((part) => part !== "");
  const rates = parts.map((part) => Number(part.replace(",", ".")));
  if (!inRange(sweepCopies(), rates.length)) return null;
  if (!rates.every((rate) => inRange(range("learning_rate"), rate))) return null;
  return rates;
}

/** The numbers the race's sentences name: how many rates race live (`max`) and how many a sweep
 * job takes (`most`), and the learning rate's range. */
export function raceLimits() {
  const copies = analysis("race").copies ?? {};
  const rate = range("learning_rate") ?? {};
  return { min: copies.min, max: copies.max, most: sweepCopies().max, low: rate.min, high: rate.max };
}

/** Race the rates live over the socket, or, more rates than a live race takes, as a sweep job
 * (a progress bar and a cancel button) whose result the race's view draws when it is done. */
export function startRace(text, steps) {
  const rates = parseRates(text);
  if (rates === null) {
    pushError({ key: "lrlab.race_bad_rates", vars: raceLimits() });
    return;
  }
  if (rates.length > (analysis("race").copies?.max ?? 0)) {
    runSweep(rates, steps);
    return;
  }
  // steps_per_second left out: the server's default, fast enough to finish a race in seconds
  const message = { type: "race_start", learning_rates: rates, steps };
  if (send(message) === null) pushError({ key: "error.not_connected" });
}

let sweepBar = null; // the sweep job's progress bar and cancel button (jobs.js), made on first use

async function runSweep(rates, steps) {
  if (!store.config) return;
  sweepBar ??= jobProgress(document.getElementById("lr-race-rates-hint"), "lr-sweep");
  try {
    const body = { kind: "sweep", config: store.config, learning_rates: rates, steps };
    showSweep(await runJob(body, sweepBar), sweepBar.view.id);
  } catch (error) {
    if (!(error instanceof JobCancelled)) pushError({ key: "lrlab.sweep_failed", vars: { message: () => explain(error) } });
  }
}

/** A finished sweep drawn as a finished race: its history replayed, point by point, into the
 * race's curves (`applyRace`, as the socket's race messages are). */
function showSweep(result, id) {
  const runs = result.runs;
  const points = Math.max(...runs.map((run) => run.history_steps.length));
  for (let index = 0; index < points; index++) {
    const copies = runs.map((run) => {
      const at = Math.min(index, run.history_steps.length - 1);
      return { learning_rate: run.learning_rate, step: run.history_steps[at], loss: run.history[at],
        diverged_at: run.diverged_at };
    });
    const last = index === points - 1;
    applyRace({ race: `job-${id}`, status: last ? "finished" : "running", step: last ? result.steps : copies[0].step,
      steps: result.steps, copies });
  }
}

export function stopRace() {
  send({ type: "race_stop" });
}

let lineInFlight = false;
let lineAgain = false; // asked for while one was in flight: one more when it lands
let lineStep = -1; // the step whose weights the last line was asked for

/** The loss along the full-batch gradient at the session's current weights. One request at a
 * time: asking again meanwhile asks once more when it lands, so the line ends current. */
export async function refreshLossLine() {
  const id = store.sessionId;
  if (!id) return;
  if (lineInFlight) {
    lineAgain = true;
    return;
  }
  lineInFlight = true;
  lineStep = store.step;
  try {
    const multiples = analysis("loss_line").max_rate_multiple;
    let multiple = multiples.default;
    let result = await api.lossLine(id, { max_rate_multiple: multiple });
    while (result.best_rate >= result.rates[result.rates.length - 1] && multiple < multiples.max) {
      multiple = Math.min(multiple * WIDENING, multiples.max);
      result = await api.lossLine(id, { max_rate_multiple: multiple, spacing: multiple > LOG_LINE_FROM ? "log" : "linear" });
    }
    setLossLine({ status: "done", result });
  } catch (error) {
    setLossLine({ status: "error", result: null, error });
  } finally {
    lineInFlight = false;
    if (lineAgain) {
      lineAgain = false;
      refreshLossLine();
    }
  }
}

let rangeBar = null; // the range test's progress bar and cancel button (jobs.js), made on first use

/** Smith's range test on a fresh copy of the session's config, as a job: a progress bar and a
 * cancel button while it runs. Cancelled, the previous result (if any) shows again. */
export async function runRangeTest() {
  if (!store.config) return;
  rangeBar ??= jobProgress(document.getElementById("lr-range-run"), "lr-range");
  const before = store.rangeTest;
  setRangeTest({ status: "running", result: null });
  try {
    const result = await runJob({ kind: "range_test", config: store.config }, rangeBar); // the server's default rates and steps
    setRangeTest({ status: "done", result });
  } catch (error) {
    if (error instanceof JobCancelled && before?.status === "done") setRangeTest(before);
    else setRangeTest({ status: "error", result: null, error });
  }
}

export function applySuggestedRate() {
  const rate = store.rangeTest?.result?.suggested_rate;
  if (rate) changeConfig({ learning_rate: Number(rate.toPrecision(3)) });
}

/** The loss line follows the session: a new network, another rate, and new weights whenever
 * training stands still (a step, a phase update, a hand edit, a pause); not while it plays,
 * when the weights move faster than the line could be drawn. */
export function initLrLab() {
  onServerMessage("snapshot", () => refreshLossLine());
  onServerMessage("frame", (frame) => {
    if (frame.state !== "running" && store.step !== lineStep) refreshLossLine();
  });
  onServerMessage("config", (message) => {
    if (message.config.learning_rate !== store.lossLine?.result?.current_rate || message.reinitialised) {
      refreshLossLine();
    }
  });
}
