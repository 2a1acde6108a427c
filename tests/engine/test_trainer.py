"""The trainer: determinism, epochs and batches, live changes, divergence, and real learning."""

import sys
import time

import numpy as np
import pytest

from backprop_lab.engine import trainer as trainer_module
from backprop_lab.engine.config import Config
from backprop_lab.engine.evaluation import split_metrics
from backprop_lab.engine.phases import PhaseWalk, StalePhaseWalk
from backprop_lab.engine.trainer import Diverged, Trainer, epochs_ahead


def test_same_config_and_seed_give_bit_identical_weights_however_the_steps_are_split():
    config = Config(dataset="spiral", seed=7, hidden_layers=(6, 6), activation="relu", optimizer="adam",
                    learning_rate=0.01, batch_size=7, noise=0.2, regularization="l2", regularization_rate=0.001)
    whole, split, other_seed = Trainer(config), Trainer(config), Trainer(config.replace(seed=8))
    whole.step(123)
    split.step(60)
    split.step(63)
    other_seed.step(123)
    assert np.array_equal(whole.network.parameters, split.network.parameters)
    assert not np.array_equal(whole.network.parameters, other_seed.network.parameters)
    assert whole.step_count == split.step_count == 123


def test_each_epoch_follows_the_next_permutation_of_the_seeded_generator_so_saved_runs_replay():
    # The orders are drawn 64 epochs at a time (50 training rows, batch 25: 2 steps an epoch);
    # each epoch's must still be the one a `permutation` call per epoch gives, as before.
    trainer = Trainer(Config(samples=100, train_ratio=0.5, batch_size=25))
    generator = np.random.default_rng()
    generator.bit_generator.state = trainer.export_state().rng_state  # after the first 64 were drawn
    trainer.step(2 * 64)  # through the first 64 epochs
    for epoch in range(70):  # the next 64 come from `generator`'s state, then the next draw
        expected = generator.permutation(50)
        assert np.array_equal(trainer.order, expected), epoch
        trainer.step(2)


def test_an_epoch_is_one_pass_and_its_last_batch_takes_what_is_left():
    trainer = Trainer(Config(samples=100, train_ratio=0.5, batch_size=15))  # 50 training points
    sizes = [trainer.traced_step().inputs.shape[0] for _ in range(4)]
    assert sizes == [15, 15, 15, 5]
    assert trainer.epoch == 1 and trainer.step_count == 4
    seen = np.sort(np.concatenate([trainer.traced_step().batch_indices for _ in range(4)]))
    assert np.array_equal(seen, np.arange(50)), "the second epoch visits every training point once"


def test_a_batch_size_above_the_split_means_the_whole_split():
    trainer = Trainer(Config(samples=100, train_ratio=0.5, batch_size=1000))
    trace = trainer.traced_step()
    assert trace.inputs.shape[0] == 50 and trainer.batch_size == 50 and trainer.epoch == 1


def test_a_traced_step_changes_the_weights_exactly_as_an_untraced_one():
    config = Config(optimizer="momentum", regularization="l1", regularization_rate=0.01)
    plain, traced = Trainer(config), Trainer(config)
    plain.step(5)
    for _ in range(5):
        trace = traced.traced_step()
    assert np.array_equal(plain.network.parameters, traced.network.parameters)
    assert trace.step == 5
    layer = trace.layers[-1]
    assert layer.weight_updates.shape == traced.network.weights[-1].shape
    assert np.array_equal(layer.weight_updates, traced.network.layout.views(traced.last_update)[0][-1])


def test_the_trace_holds_the_step_s_numbers():
    trainer = Trainer(Config(hidden_layers=(3,), regularization="l2", regularization_rate=0.1))
    before_w = [w.copy() for w in trainer.network.weights]
    trace = trainer.traced_step()
    first = trace.layers[0]
    np.testing.assert_allclose(first.pre_activations, trace.inputs @ before_w[0] + 0.0)  # biases start at 0
    np.testing.assert_allclose(first.activations, np.tanh(first.pre_activations))
    output = trace.layers[-1]
    np.testing.assert_allclose(output.activations.sum(axis=1), 1.0)  # softmax probabilities
    np.testing.assert_allclose(output.deltas, (output.activations - trace.targets) / trace.inputs.shape[0])
    expected_grad = trace.inputs.T @ first.deltas + 0.1 * before_w[0]
    np.testing.assert_allclose(first.weight_gradients, expected_grad, rtol=1e-12)
    np.testing.assert_allclose(first.weight_updates, -0.03 * first.weight_gradients, rtol=1e-12)
    assert trace.objective > trace.loss > 0
    assert 0.0 <= trace.accuracy <= 1.0


def test_walking_every_phase_ends_in_the_same_weights_as_one_step():
    config = Config(hidden_layers=(5, 3), optimizer="adam", regularization="l2", regularization_rate=0.01)
    stepped, walked = Trainer(config), Trainer(config)
    for _ in range(3):
        stepped.step()
        walk = PhaseWalk(walked)
        phases = []
        while not walk.done:
            phases.append(walk.next())
        assert [(p.kind, p.layer) for p in phases] == [
            ("forward", 0), ("forward", 1), ("forward", 2), ("loss", None),
            ("backward", 2), ("backward", 1), ("backward", 0), ("update", None),
        ]
        assert [p.index for p in phases] == list(range(8)) and phases[0].total == 8
    assert np.array_equal(stepped.network.parameters, walked.network.parameters)
    assert walked.step_count == 3


def test_each_phase_returns_the_numbers_an_ordinary_traced_step_computes():
    config = Config(hidden_layers=(4,))
    traced, walked = Trainer(config), Trainer(config)
    trace = traced.traced_step()
    walk = PhaseWalk(walked)
    phases = [walk.next() for _ in range(walk.total)]
    np.testing.assert_array_equal(phases[0].values["activations"], trace.layers[0].activations)
    assert phases[2].values["loss"] == trace.loss
    np.testing.assert_array_equal(phases[3].values["weight_gradients"], trace.layers[1].weight_gradients)
    np.testing.assert_array_equal(phases[4].values["deltas"], trace.layers[0].deltas)
    np.testing.assert_array_equal(phases[5].values["weight_updates"][0], trace.layers[0].weight_updates)


def test_a_phase_walk_goes_stale_when_the_trainer_moves_on():
    trainer = Trainer(Config())
    walk = PhaseWalk(trainer)
    walk.next()
    trainer.step()
    with pytest.raises(StalePhaseWalk):
        walk.next()


def test_live_hyperparameter_changes_keep_the_weights_and_architecture_changes_reinitialise():
    trainer = Trainer(Config())
    trainer.step(20)
    weights = trainer.network.parameters.copy()
    assert trainer.reconfigure(trainer.config.replace(learning_rate=0.5, batch_size=3, optimizer="adam")) is False
    assert np.array_equal(trainer.network.parameters, weights) and trainer.step_count == 20
    trainer.step()
    assert trainer.optimizer.name == "adam" and trainer.config.learning_rate == 0.5
    assert trainer.reconfigure(trainer.config.replace(hidden_layers=(3,))) is True
    assert trainer.step_count == 0 and trainer.network.layout.layer_sizes == (2, 3, 2)


def test_reset_returns_to_the_seed_s_initial_weights():
    trainer = Trainer(Config(seed=3))
    initial = trainer.network.parameters.copy()
    trainer.step(50)
    trainer.reset()
    assert np.array_equal(trainer.network.parameters, initial) and trainer.step_count == 0
    assert np.array_equal(Trainer(Config(seed=3)).network.parameters, initial)


def test_divergence_is_caught_at_its_step_and_the_weights_stay_finite():
    trainer = Trainer(Config(dataset="plane", learning_rate=1000.0, hidden_layers=(8, 8), activation="relu"))
    with pytest.raises(Diverged) as caught:
        for _ in range(10_000):
            before = trainer.network.parameters.copy()
            trainer.step()
    assert caught.value.step == trainer.step_count + 1
    assert np.isfinite(trainer.network.parameters).all()
    assert np.array_equal(trainer.network.parameters, before), "the failed step left no trace"
    assert np.isfinite(trainer.last_gradient).all() and np.isfinite(trainer.last_update).all()
    assert "learning rate 1000" in str(caught.value)


def test_divergence_is_caught_at_its_step_on_classification_too():
    trainer = Trainer(Config(learning_rate=1000.0, hidden_layers=(8,), activation="linear"))
    trainer.set_parameters(trainer.network.parameters * 1e100)  # weights already far too large: logits overflow
    with pytest.raises(Diverged) as caught:
        for _ in range(1000):
            before = trainer.network.parameters.copy()
            trainer.step()
    assert caught.value.step == trainer.step_count + 1
    assert np.array_equal(trainer.network.parameters, before) and np.isfinite(before).all()


def test_train_for_trains_until_its_deadline_in_one_compiled_call_per_draw_of_epoch_orders(monkeypatch):
    # Every return from the compiled loop takes the GIL back: with many sessions playing, slices
    # sized from a measured step took 3.4 calls each, so the loop reads the clock itself.
    calls = []
    kernel = trainer_module._train_kernel
    monkeypatch.setattr(trainer_module, "_train_kernel", lambda *arguments: calls.append(1) or kernel(*arguments))
    trainer = Trainer(Config())
    start = time.perf_counter()
    done = trainer.train_for(10_000_000, start + 0.05)
    assert time.perf_counter() >= start + 0.05, "not before its deadline"
    assert 1 <= done < 10_000_000 and time.perf_counter() - start < 1.0
    assert trainer.step_count == done
    draws = trainer.epoch // epochs_ahead(trainer.dataset.train.size)  # the orders drawn ahead ran out
    assert len(calls) == draws + 1


def test_train_for_with_its_deadline_passed_takes_one_step_and_then_none_is_left_pending():
    trainer, twin = Trainer(Config()), Trainer(Config())
    assert trainer.train_for(1000, time.perf_counter() - 1.0) == 1
    twin.step(1)
    assert np.array_equal(trainer.network.parameters, twin.network.parameters)
    trainer.step(30)  # no deadline left behind: a plain step call trains every step asked
    assert trainer.step_count == 31
    assert trainer.train_for(0, time.perf_counter() + 1.0) == 0


def test_unknown_names_and_bad_ranges_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="activation"):
        Trainer(Config(activation="swish"))
    with pytest.raises(ValueError, match="learning_rate"):
        Trainer(Config(learning_rate=0.0))
    with pytest.raises(ValueError, match="loss"):
        Trainer(Config(dataset="plane", loss="cross_entropy"))


def test_the_loss_follows_the_data_set_when_not_given():
    assert Trainer(Config(dataset="plane")).config.loss == "mse"
    assert Trainer(Config(dataset="xor")).config.loss == "cross_entropy"


def test_set_parameters_refuses_non_finite_values():
    trainer = Trainer(Config())
    bad = trainer.network.parameters.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        trainer.set_parameters(bad)


@pytest.mark.parametrize(
    "config,steps,target",
    [
        (Config(dataset="circle", learning_rate=0.1), 3000, 0.95),
        (Config(dataset="xor", learning_rate=0.1, hidden_layers=(8,)), 3000, 0.95),
        (Config(dataset="five_class", learning_rate=0.1), 3000, 0.90),
    ],
    ids=["circle", "xor", "five_class"],
)
def test_learning_really_happens_on_classification_sets(config, steps, target):
    trainer = Trainer(config)
    trainer.step(steps)
    metrics = split_metrics(trainer.network, trainer.loss, trainer.dataset.test.inputs, trainer.dataset.test.targets)
    assert metrics["accuracy"] >= target


@pytest.mark.parametrize("dataset", ["plane", "multi_gaussian"])
def test_learning_really_happens_on_regression_sets(dataset):
    trainer = Trainer(Config(dataset=dataset, hidden_layers=(8, 8), optimizer="adam", learning_rate=0.03))
    test = trainer.dataset.test

    def test_loss():
        return split_metrics(trainer.network, trainer.loss, test.inputs, test.targets)["loss"]

    start = test_loss()
    trainer.step(3000)
    assert test_loss() < start / 10


def _walk_one_step(trainer: Trainer) -> None:
    walk = PhaseWalk(trainer)
    while not walk.done:
        walk.next()


def _traced(trainer: Trainer, steps: int) -> None:
    for _ in range(steps):
        trainer.traced_step()


def _walked(trainer: Trainer, steps: int) -> None:
    for _ in range(steps):
        _walk_one_step(trainer)


def _mixed(trainer: Trainer, steps: int) -> None:
    """The steps split every which way: untraced calls of odd sizes, traced steps, phase walks,
    and a deadline-driven call."""
    done = 0
    pattern = [lambda: trainer.step(7), lambda: _traced(trainer, 2), lambda: _walk_one_step(trainer),
               lambda: trainer.step(1), lambda: trainer.train_for(3, time.perf_counter() + 10.0)]
    sizes = [7, 2, 1, 1, 3]
    index = 0
    while done + sizes[index % 5] <= steps:
        pattern[index % 5]()
        done += sizes[index % 5]
        index += 1
    trainer.step(steps - done)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_traced_untraced_phase_by_phase_and_split_training_give_identical_weights(optimizer):
    """Through an epoch's end, a live change of learning rate, optimiser and batch size, and a
    regularisation change: every path runs the same kernels in the same order."""
    config = Config(dataset="spiral", samples=120, hidden_layers=(6, 5), activation="leaky_relu",
                    optimizer=optimizer, learning_rate=0.02, batch_size=9, regularization="l2",
                    regularization_rate=0.003)
    ways = {"untraced": Trainer.step, "traced": _traced, "phases": _walked, "split": _mixed}
    trainers = {name: Trainer(config) for name in ways}
    changes = [config.replace(learning_rate=0.1), config.replace(learning_rate=0.1, optimizer="adam"),
               config.replace(learning_rate=0.05, optimizer="momentum", batch_size=25, regularization="l1")]
    for change in [None, *changes]:
        for name, trainer in trainers.items():
            if change is not None:
                assert trainer.reconfigure(change) is False
            ways[name](trainer, 37)
    reference = trainers["untraced"]
    assert reference.step_count == 4 * 37 and reference.epoch > 2
    for name, trainer in trainers.items():
        assert np.array_equal(trainer.network.parameters, reference.network.parameters), name
        assert np.array_equal(trainer.optimizer.moments, reference.optimizer.moments), name
        assert np.array_equal(trainer.counters, reference.counters), name
        assert np.array_equal(trainer.last_gradient, reference.last_gradient), name


def test_two_trainers_on_two_threads_each_equal_their_single_threaded_run():
    """The kernels release the GIL, so two threads really train at once: nothing is shared."""
    import threading

    configs = [Config(dataset="xor", hidden_layers=(8, 8), optimizer="adam", seed=1),
               Config(dataset="moons", hidden_layers=(6,), activation="relu", seed=2)]
    alone = []
    for config in configs:
        trainer = Trainer(config)
        trainer.step(3000)
        alone.append(trainer.network.parameters.copy())
    together = [Trainer(config) for config in configs]
    start = threading.Barrier(2)

    def train(trainer: Trainer) -> None:
        start.wait()
        for _ in range(30):
            trainer.step(100)

    threads = [threading.Thread(target=train, args=(trainer,)) for trainer in together]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for trainer, expected in zip(together, alone, strict=True):
        assert np.array_equal(trainer.network.parameters, expected)


def test_the_step_time_estimate_changes_nothing_and_is_then_measured():
    trainer = Trainer(Config(hidden_layers=(8, 8)))
    before = trainer.network.parameters.copy(), trainer.counters.copy(), trainer.last_gradient.copy()
    estimate = trainer.step_seconds()
    assert 0 < estimate < 0.01
    assert all(np.array_equal(a, b) for a, b in zip(before, (trainer.network.parameters, trainer.counters,
                                                             trainer.last_gradient), strict=True))
    trainer.train_for(1000, time.perf_counter() + 0.05)
    measured = trainer.step_seconds()
    assert 0 < measured < 0.01 and measured != estimate


def test_snapshots_hold_the_weights_of_their_steps_without_changing_training():
    config = Config(hidden_layers=(5,), batch_size=7)
    recorded, plain = Trainer(config), Trainer(config)
    recorded.snapshot_every(9)
    recorded.step(1000)  # 111 snapshots: the buffer fills and drains, epochs' orders run out on the way
    snapshots = recorded.take_snapshots()
    assert [step for step, _ in snapshots] == list(range(9, 1000, 9))
    for step, parameters in snapshots[:5] + snapshots[-5:]:
        plain.step(step - plain.step_count)
        assert np.array_equal(parameters, plain.network.parameters), step
    plain.step(1000 - plain.step_count)
    assert np.array_equal(recorded.network.parameters, plain.network.parameters)
    assert recorded.take_snapshots() == [], "taken once"


def test_a_copy_trains_on_to_the_same_weights_as_the_original_and_independently_of_it():
    # 50 training rows: the orders drawn ahead (64 epochs, 320 steps) run out and are redrawn
    # within the 700 steps, so the generator's state must have been copied too
    config = Config(dataset="spiral", samples=100, train_ratio=0.5, hidden_layers=(5, 4), optimizer="adam",
                    learning_rate=0.01, batch_size=10, regularization="l2", regularization_rate=0.001)
    original = Trainer(config)
    original.step(7)  # mid-epoch, with optimiser memory
    twin = original.copy()
    assert np.array_equal(twin.network.parameters, original.network.parameters)
    assert (twin.step_count, twin.epoch) == (original.step_count, original.epoch)
    twin.step(700)
    assert original.step_count == 7, "training the copy moved the original"
    original.step(700)
    assert np.array_equal(twin.network.parameters, original.network.parameters)
    assert np.array_equal(twin.optimizer.moments, original.optimizer.moments)
    assert np.array_equal(twin.last_update, original.last_update)
    twin.reconfigure(config.replace(learning_rate=0.5))
    twin.step(3)
    assert not np.array_equal(twin.network.parameters, original.network.parameters)
    assert original.config.learning_rate == 0.01
    twin.reset()
    assert np.array_equal(twin.network.parameters, original.initial_parameters)


def test_calls_shorter_than_the_switch_interval_keep_the_gil_and_train_to_the_same_bits(monkeypatch):
    """A session at a watchable pace trains a few steps a turn: giving the GIL away for them and
    waiting to get it back cost more than the steps (bench/hall.py). Longer calls still give it away."""
    used = []
    for name in ("_train_kernel", "_train_kernel_keeping_gil"):
        kernel = getattr(trainer_module, name)
        monkeypatch.setattr(trainer_module, name, lambda *arguments, name=name, kernel=kernel:
                            used.append(name) or kernel(*arguments))
    config = Config(hidden_layers=(6,), batch_size=5)
    trainer, twin = Trainer(config), Trainer(config)
    trainer.step(3)
    assert used == ["_train_kernel"], "no step measured yet: the GIL is given away"
    trainer.train_for(10, time.perf_counter() + 1.0)
    used.clear()
    monkeypatch.setattr(sys, "getswitchinterval", lambda: 1.0)
    trainer.step(5)
    trainer.train_for(5, time.perf_counter() + 0.5)
    assert used == ["_train_kernel_keeping_gil"] * 2
    used.clear()
    monkeypatch.setattr(sys, "getswitchinterval", lambda: 1e-9)
    trainer.step(5)
    assert used == ["_train_kernel"]
    twin.step(trainer.step_count)
    assert np.array_equal(trainer.network.parameters, twin.network.parameters)
    assert np.array_equal(trainer.optimizer.moments, twin.optimizer.moments)
