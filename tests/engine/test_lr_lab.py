"""The learning-rate lab: the loss line against the NumPy reference, the race's copies and their
divergence, and the range test's suggestion."""

import numpy as np
import pytest

from backprop_lab.engine import reference
from backprop_lab.engine.config import Config
from backprop_lab.engine.evaluation import split_metrics
from backprop_lab.engine.lr_lab import RACE_COPIES, Race, loss_line, range_rates, range_test
from backprop_lab.engine.trainer import Diverged, Trainer


def reference_layers(trainer: Trainer, theta: np.ndarray) -> list[reference.Layer]:
    weights, biases = trainer.network.layout.views(theta)
    return [(w.copy(), b.copy()) for w, b in zip(weights, biases, strict=True)]


def reference_choices(trainer: Trainer) -> reference.Choices:
    config, network = trainer.config, trainer.network
    assert config.loss is not None
    return reference.Choices(network.activation.name, network.classify, config.loss, config.regularization,
                             config.regularization_rate)


def reference_loss(trainer: Trainer, theta: np.ndarray) -> float:
    train = trainer.dataset.train
    layers = reference_layers(trainer, theta)
    return reference.loss_and_objective(layers, train.inputs, train.targets, reference_choices(trainer))[0]


def full_batch_sgd_step(trainer: Trainer) -> np.ndarray:
    """θ after one sgd step on the whole training split, by the reference (objective's gradient)."""
    train, sgd = trainer.dataset.train, reference.Optimizer("sgd", trainer.config.learning_rate)
    step = reference.training_step(reference_layers(trainer, trainer.network.parameters), train.inputs,
                                   train.targets, reference_choices(trainer), sgd)
    return np.concatenate([w.ravel() for w, _ in step.layers] + [b for _, b in step.layers])  # (P,) weights, biases


@pytest.mark.parametrize("config", [
    Config(learning_rate=0.3),
    Config(dataset="plane", hidden_layers=(6, 4), activation="relu", learning_rate=0.05, regularization="l2",
           regularization_rate=0.01),
    Config(dataset="five_class", hidden_layers=(5,), activation="sigmoid", learning_rate=1.0, regularization="l1",
           regularization_rate=0.001),
])
def test_the_line_starts_at_today_s_loss_and_lands_where_one_full_batch_sgd_step_lands(config):
    trainer = Trainer(config)
    trainer.step(30)
    line = loss_line(trainer, points=41, max_rate_multiple=4)
    today = reference_loss(trainer, trainer.network.parameters)
    assert line.rates[0] == 0.0 and line.rates[-1] == pytest.approx(4 * config.learning_rate)
    assert line.losses[0] == pytest.approx(today, rel=1e-12)
    assert line.current_loss == pytest.approx(today, rel=1e-12)
    assert line.landing_loss == pytest.approx(reference_loss(trainer, full_batch_sgd_step(trainer)), rel=1e-10)
    # the 11th of 41 points from 0 to 4η is η itself
    assert line.losses[10] == pytest.approx(line.landing_loss, rel=1e-12)


def test_the_landing_loss_is_the_loss_a_full_batch_step_of_the_trainer_gives_to_the_bit():
    config = Config(dataset="gaussian", batch_size=10_000, learning_rate=0.7)  # full batch: one step = the line
    trainer = Trainer(config)
    trainer.step(5)
    line = loss_line(trainer, points=11, max_rate_multiple=2)
    trainer.step(1)
    train = trainer.dataset.train
    assert line.landing_loss == split_metrics(trainer.network, trainer.loss, train.inputs, train.targets)["loss"]


def test_the_line_is_a_u_when_the_rate_is_too_high():
    trainer = Trainer(Config(dataset="plane", hidden_layers=(6,), learning_rate=3.0))
    trainer.step(50)
    line = loss_line(trainer, points=101, max_rate_multiple=4)
    assert 0.0 < line.best_rate < line.current_rate, "the bottom is before the step this rate takes"
    assert line.best_loss < line.current_loss
    assert line.overshoot_rate is not None and line.best_rate < line.overshoot_rate <= 4 * line.current_rate
    beyond = line.losses[line.rates >= line.overshoot_rate]
    assert not (beyond[0] <= line.current_loss), "past the overshoot the loss is above today's"


def test_the_line_leaves_the_weights_alone():
    trainer = Trainer(Config())
    trainer.step(10)
    before = trainer.network.parameters.copy()
    loss_line(trainer, points=5, max_rate_multiple=100)
    assert np.array_equal(trainer.network.parameters, before)


def test_the_line_refuses_bad_arguments():
    trainer = Trainer(Config())
    with pytest.raises(ValueError, match="points"):
        loss_line(trainer, points=1)
    with pytest.raises(ValueError, match="max_rate_multiple"):
        loss_line(trainer, max_rate_multiple=float("nan"))


def test_race_copies_start_from_identical_weights_and_follow_their_own_trainer_bit_for_bit():
    config = Config(dataset="spiral", hidden_layers=(6, 6), optimizer="adam")
    race = Race(config, [0.001, 0.01, 0.1])
    first = race.copies[0].network.parameters
    assert all(np.array_equal(copy.network.parameters, first) for copy in race.copies)
    assert len({copy.history[0] for copy in race.copies}) == 1, "the same start, the same loss"
    race.run(130, record_every=25)
    assert race.copies[0].steps == [0, 25, 50, 75, 100, 125, 130]
    for copy in race.copies:
        alone = Trainer(config.replace(learning_rate=copy.learning_rate))
        alone.step(130)
        assert np.array_equal(copy.network.parameters, alone.network.parameters)
    assert not np.array_equal(race.copies[0].network.parameters, race.copies[1].network.parameters)


def test_one_split_loss_evaluates_every_copy_as_its_own_evaluation_would():
    config = Config(dataset="five_class", hidden_layers=(5,), regularization="l2", regularization_rate=0.1)
    race = Race(config, [0.01, 0.5])
    race.advance(40)
    for copy in race.copies:
        train = copy.trainer.dataset.train
        assert np.array_equal(train.inputs, race.copies[0].trainer.dataset.train.inputs), "one seed, one data set"
        assert race.train_loss(copy) == split_metrics(copy.network, copy.trainer.loss, train.inputs,
                                                      train.targets)["loss"]


def test_a_huge_rate_is_marked_diverged_at_the_step_the_trainer_would_refuse():
    config = Config(dataset="plane", hidden_layers=(6, 4), activation="relu")
    race = Race(config, [0.03, 50.0])
    race.run(400, record_every=7)
    good, huge = race.copies
    alone = Trainer(config.replace(learning_rate=50.0))
    with pytest.raises(Diverged) as caught:
        alone.step(400)
    assert huge.diverged and huge.diverged_at == caught.value.step and huge.cause == caught.value.cause
    assert huge.trainer.step_count == caught.value.step - 1 and huge.steps[-1] == huge.trainer.step_count
    assert np.isfinite(huge.network.parameters).all()
    assert not good.diverged and good.trainer.step_count == 400 and good.steps[-1] == 400


def test_a_tiny_rate_ends_higher_than_a_good_one_after_the_same_steps():
    race = Race(Config(dataset="gaussian"), [1e-4, 0.1])
    race.run(300, record_every=50)
    tiny, good = race.copies
    assert good.history[-1] < 0.5 * tiny.history[-1]
    assert tiny.history[-1] < tiny.history[0], "a tiny rate still goes down, slowly"


def test_a_race_refuses_too_many_copies_and_bad_rates():
    with pytest.raises(ValueError, match="learning_rates"):
        Race(Config(), [0.1] * (int(RACE_COPIES.high or 0) + 1))
    with pytest.raises(ValueError, match="learning_rate"):
        Race(Config(), [0.1, -1.0])


def test_range_rates_grow_by_the_same_factor_from_min_to_max():
    rates = range_rates(1e-4, 1.0, 5)
    assert rates[0] == pytest.approx(1e-4) and rates[-1] == pytest.approx(1.0)
    assert np.allclose(rates[1:] / rates[:-1], 10.0)


def test_a_range_from_the_smallest_float_to_a_large_rate_stays_finite_and_runs():
    """max_rate / min_rate overflows to inf here; every rate must still be a finite rate in range."""
    rates = range_rates(5e-324, 10.0, 200)
    assert np.all(np.isfinite(rates)) and np.all(rates > 0) and rates[-1] == 10.0
    assert np.all(np.diff(rates) > 0)
    test = range_test(Config(), 5e-324, 10.0, 200)
    assert 0 < test.suggested_rate <= 10.0


def test_the_range_test_records_and_smooths_each_batch_loss():
    config = Config(dataset="gaussian")
    test = range_test(config, 1e-3, 1.0, 50)
    assert test.stopped_at is None and len(test.rates) == 50
    trainer = Trainer(config.replace(learning_rate=float(test.rates[0])))
    trainer.step(1)
    assert test.losses[0] == trainer.last_losses[0], "the first step's batch loss, before its update"
    assert test.smoothed[0] == pytest.approx(test.losses[0]), "bias correction: the first average is the first loss"
    assert np.std(np.diff(test.smoothed)) < np.std(np.diff(test.losses))


def test_the_range_test_stops_when_the_loss_explodes():
    test = range_test(Config(dataset="plane", hidden_layers=(6, 4), activation="relu"), 1e-4, 1000.0, 300)
    assert test.stopped_at is not None and test.stopped_at < 299
    assert len(test.rates) <= test.stopped_at + 1
    assert test.rates[-1] < 1000.0


@pytest.mark.parametrize("config", [
    Config(dataset="gaussian"),
    Config(dataset="plane", hidden_layers=(6, 4), activation="relu"),
])
def test_the_suggested_rate_lies_in_the_range_and_trains_well(config):
    test = range_test(config, 1e-4, 100.0, 200)
    assert 1e-4 <= test.suggested_rate <= 100.0
    suggested, slowest = Trainer(config.replace(learning_rate=test.suggested_rate)), Trainer(
        config.replace(learning_rate=1e-4))
    suggested.step(500)
    slowest.step(500)
    train = suggested.dataset.train
    start = split_metrics(Trainer(config).network, suggested.loss, train.inputs, train.targets)["loss"]
    final = split_metrics(suggested.network, suggested.loss, train.inputs, train.targets)["loss"]
    slow = split_metrics(slowest.network, slowest.loss, train.inputs, train.targets)["loss"]
    assert final < 0.3 * start and final < 0.3 * slow


def test_the_range_test_refuses_an_empty_range():
    with pytest.raises(ValueError, match="min_rate"):
        range_test(Config(), 1.0, 0.1, 100)
