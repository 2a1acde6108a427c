// The class's words, shared by the teacher's class page and a student's own page: a student's
// shown name, a badge, a challenge, a network's architecture, a metric, each in the reader's
// language (static/i18n/*.json, the terms of the glossary). Only reads; draws nothing.

import { groupedInteger, percent, shortNumber } from "../format.js";
import { has, t } from "../i18n.js";

/** The metrics a challenge (and the scatter) can be about; accuracy is better high, a loss low. */
export const METRICS = ["test_accuracy", "test_loss", "train_loss"];

/** The badges, in the order "needs help" sorts them (the server computes them: docs/api.md). */
export const BADGES = ["diverged", "stuck", "idle", "learning", "converged"];
/** The badges a teacher should look at first: the grid's "needs help" filter. */
export const NEEDS_HELP = new Set(["diverged", "stuck", "idle"]);

export function higherIsBetter(metric) {
  return metric.endsWith("accuracy");
}

/** "Ayu", or "Student 3" when names are hidden (the server sends no name then). */
export function shownName(student) {
  return student.name ?? t("class.student_number", { number: student.number });
}

export function badgeLabel(badge) {
  return has(`class.badge.${badge}`) ? t(`class.badge.${badge}`) : String(badge ?? "");
}

export function metricLabel(metric) {
  return has(`class.metric.${metric}`) ? t(`class.metric.${metric}`) : String(metric);
}

/** A metric's value as read: accuracy in percent, a loss with three significant digits. */
export function metricValue(metric, value) {
  if (value === null || value === undefined) return "–";
  return higherIsBetter(metric) ? percent(value) : shortNumber(value, 3);
}

export function datasetLabel(name) {
  if (!name) return "";
  return has(`dataset.${name}`) ? t(`dataset.${name}`) : name;
}

export function choiceLabel(kind, name) {
  return has(`${kind}.${name}`) ? t(`${kind}.${name}`) : String(name ?? "");
}

/** "2 → 8 · 8 → 1" style is for the network view; here the hidden layers only: "8 · 8", or "none". */
export function architecture(config) {
  const layers = config?.hidden_layers ?? [];
  return layers.length ? layers.map((n) => groupedInteger(n)).join(" · ") : t("class.no_hidden_layers");
}

/** The challenge as one sentence: "test accuracy ≥ 95 % on Spiral with at most 8 hidden neurons". */
export function challengeText(challenge) {
  if (!challenge) return "";
  const goal = t(higherIsBetter(challenge.metric) ? "class.challenge_goal_high" : "class.challenge_goal_low", {
    metric: metricLabel(challenge.metric),
    target: metricValue(challenge.metric, challenge.target),
  });
  const parts = [goal];
  if (challenge.dataset) parts.push(t("class.challenge_on", { dataset: datasetLabel(challenge.dataset) }));
  if (challenge.max_hidden_neurons !== null && challenge.max_hidden_neurons !== undefined) {
    parts.push(t("class.challenge_neurons", { count: groupedInteger(challenge.max_hidden_neurons) }));
  }
  return parts.join(" ");
}
