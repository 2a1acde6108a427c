"""A student's thumbnail on the class page, from the heatmaps their session already drew: the
output layer shrunk to at most 32×32 bytes, the top row first; and drawn often enough while the
class page shows it."""

from __future__ import annotations

import base64
import time

import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses.heatmaps import Rendered, quantise
from backprop_lab.server.classes.view import THUMBNAIL_SIZE, thumbnail
from backprop_lab.server.live.frames import WATCHED_HEATMAP_RATE, FrameBuilder
from backprop_lab.server.runtime.cadence import Cadence
from backprop_lab.server.settings import Timing


def rendered(outputs: np.ndarray) -> Rendered:
    """Heatmaps of a network with one hidden neuron (ignored) and `outputs` (G, G, n_out), as
    `heatmaps.render` lays them out: row 0 at the bottom (smallest x2)."""
    size = outputs.shape[0]
    hidden = np.zeros((size * size, 1))
    ranges, data = quantise([hidden, outputs.reshape(size * size, -1)])
    return Rendered(size, ranges, data)


def cells(made: dict) -> np.ndarray:
    size = made["size"]
    return np.frombuffer(base64.b64decode(made["values"]), np.uint8).reshape(size, size)


def test_two_classes_give_the_probability_of_class_1_with_the_top_row_first():
    size = 48
    rows = np.linspace(0.0, 1.0, size)[:, None] * np.ones((1, size))  # (G, G): P(class 1) grows with x2
    made = thumbnail(rendered(np.stack([1 - rows, rows], axis=-1)), classify=True)
    assert made["kind"] == "classification" and made["size"] == 24 <= THUMBNAIL_SIZE
    grid = cells(made)
    assert grid[0].min() > 245 and grid[-1].max() < 10, "row 0 is the top: the largest x2"


def test_more_classes_give_the_predicted_class():
    size = 16
    winner = np.arange(size * size).reshape(size, size) % 3  # (G, G)
    outputs = np.eye(3)[winner]  # (G, G, 3)
    made = thumbnail(rendered(outputs), classify=True)
    assert made["classes"] == 3 and made["size"] == 16
    assert np.array_equal(cells(made), winner[::-1])


def test_regression_spans_the_outputs_range():
    size = 20
    values = np.linspace(-3.0, 5.0, size)[None, :] * np.ones((size, 1))  # grows with x1
    made = thumbnail(rendered(values[..., None]), classify=False)
    grid = cells(made)
    assert made["kind"] == "regression" and grid[:, 0].max() == 0 and grid[:, -1].min() == 255


def test_a_session_the_class_page_shows_draws_its_heatmaps_often_enough_however_many_play():
    cadence = Cadence(workers=2)
    cadence.playing(+200)  # a full hall: each session's heatmaps thinned to one every few seconds
    frames = FrameBuilder(cadence, Timing())
    frames.rebuilt(Trainer(Config()))
    assert frames.heatmap_interval() > 1.0
    frames.watched_until = time.monotonic() + 1.0  # what a class view does for every session it shows
    assert frames.heatmap_interval() <= 1 / WATCHED_HEATMAP_RATE
    frames.watched_until = time.monotonic() - 0.1  # the class page closed
    assert frames.heatmap_interval() > 1.0
