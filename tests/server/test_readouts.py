"""A playing session's refresh: the metrics and the neurons' health from one forward pass of the
training split, in workspaces kept between refreshes, the same numbers as each made alone."""

from __future__ import annotations

import dataclasses

import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses.readouts import SplitWorkspaces, metrics_and_health, neuron_health
from backprop_lab.server.wire.views import trainer_metrics


def test_the_refresh_gives_the_metrics_and_health_each_gives_alone_as_the_network_and_data_change():
    trainer = Trainer(Config(activation="relu", learning_rate=3.0, seed=4))  # a rate that kills some ReLUs
    kept = SplitWorkspaces()
    stopped = []
    for change in ({}, {"hidden_layers": [6, 3]}, {"dataset": "xor", "noise": 0.2}, {"train_ratio": 0.3}):
        if change:
            trainer.reconfigure(dataclasses.replace(trainer.config, **change))
        trainer.step(150)
        metrics, health = metrics_and_health(trainer, kept)
        alone = trainer_metrics(trainer)
        assert metrics.keys() == alone.keys()
        assert all(np.array_equal(metrics[key], alone[key]) for key in alone)
        assert health == neuron_health(trainer)
        assert kept.of(trainer)["train"].capacity == trainer.dataset.train.size
        stopped.append(health["stopped"])
    assert health["hidden"] == 9 and health["kind"] == "dead"
    assert any(stopped), "no ReLU died: the counting went untested"
