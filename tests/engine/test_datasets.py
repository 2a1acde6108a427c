"""Data sets come out shaped, balanced, split and seeded the way the lessons and the API promise."""

import numpy as np
import pytest

from backprop_lab.engine.config import Config
from backprop_lab.engine.datasets import (
    BUILTIN,
    Dataset,
    grid_axes,
    grid_inputs,
    make_dataset,
    multi_gaussian_target,
    plane_target,
    train_size,
)
from backprop_lab.engine.features import transform
from backprop_lab.engine.tabular import load_iris, parse_csv

GENERATED = tuple(name for name, entry in BUILTIN.items() if not entry.tabular)
REGRESSION_DATASETS = tuple(name for name, entry in BUILTIN.items() if entry.regression)
CLASSIFICATION_DATASETS = tuple(name for name in GENERATED if name not in REGRESSION_DATASETS)


def build(seed: int = 0, table=None, **changes) -> Dataset:
    return make_dataset(Config().replace(**changes), np.random.default_rng(seed), table)


def both(dataset: Dataset, field: str) -> np.ndarray:
    return np.concatenate([getattr(dataset.train, field), getattr(dataset.test, field)])


def nearest_neighbour_accuracy(dataset: Dataset) -> float:
    """How often a test point's nearest training point has its class: high when classes stay apart."""
    gaps = dataset.test.points[:, None, :] - dataset.train.points[None, :, :]  # (test, train, 2)
    nearest = (gaps**2).sum(axis=2).argmin(axis=1)  # (test,)
    return float((dataset.train.labels[nearest] == dataset.test.labels).mean())


def test_every_built_in_set_is_drawn_or_read_and_the_registry_knows_its_classes():
    assert [name for name, entry in BUILTIN.items() if (entry.generator is None) == (entry.load is None)] == []
    assert REGRESSION_DATASETS == ("plane", "multi_gaussian")
    assert BUILTIN["iris"].classes == load_iris().classes == 3
    for name in GENERATED:
        assert build(dataset=name, samples=20).classes == BUILTIN[name].classes


# --- shapes and targets -------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATED)
def test_every_generated_set_has_the_promised_shapes_and_float64_arrays(name):
    dataset = build(dataset=name, samples=200, features=("x1", "x2", "x1_x2"))
    classes = 5 if name == "five_class" else None if name in REGRESSION_DATASETS else 2
    assert dataset.classes == classes
    assert dataset.n_inputs == 3
    assert dataset.n_outputs == (classes or 1)
    assert dataset.is_regression == (classes is None)
    assert dataset.planar
    assert dataset.extent == (-6.0, 6.0, -6.0, 6.0)
    assert dataset.input_names == ("x1", "x2", "x1_x2")
    for split in (dataset.train, dataset.test):
        assert split.points.shape == (100, 2) and split.points.dtype == np.float64
        assert split.inputs.shape == (100, 3) and split.inputs.dtype == np.float64
        assert split.targets.shape == (100, classes or 1) and split.targets.dtype == np.float64
        if classes is None:
            assert split.labels is None
        else:
            assert split.labels.shape == (100,) and split.labels.dtype == np.int64


@pytest.mark.parametrize("name", CLASSIFICATION_DATASETS)
def test_targets_are_one_hot_rows_summing_to_one_at_the_label(name):
    dataset = build(dataset=name, samples=100, noise=0.2)
    for split in (dataset.train, dataset.test):
        np.testing.assert_array_equal(split.targets.sum(axis=1), 1.0)
        assert set(np.unique(split.targets)) == {0.0, 1.0}
        np.testing.assert_array_equal(split.targets.argmax(axis=1), split.labels)
    assert dataset.class_names == tuple(str(k) for k in range(dataset.classes))


@pytest.mark.parametrize("name", CLASSIFICATION_DATASETS)
@pytest.mark.parametrize("samples", [500, 101])
def test_classes_are_balanced_to_within_one_sample(name, samples):
    dataset = build(dataset=name, samples=samples)
    counts = np.bincount(both(dataset, "labels"), minlength=dataset.classes)
    assert counts.sum() == samples
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", GENERATED)
def test_inputs_are_the_chosen_features_of_the_points(name):
    features = ("sin_x2", "x1_squared", "x1")
    dataset = build(dataset=name, samples=60, noise=0.1, features=features)
    for split in (dataset.train, dataset.test):
        np.testing.assert_array_equal(split.inputs, transform(split.points, features))


def test_the_samples_are_shuffled_before_the_split_so_both_splits_see_every_class():
    dataset = build(dataset="five_class", samples=500)
    assert set(dataset.train.labels) == set(range(5)) == set(dataset.test.labels)
    assert not np.all(np.diff(dataset.train.labels) >= 0)  # not grouped by class


# --- noise --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATED)
def test_noise_moves_the_points_but_keeps_each_samples_label_and_order(name):
    clean = build(dataset=name, noise=0.0)
    noisy = build(dataset=name, noise=0.3)
    assert not np.array_equal(clean.train.points, noisy.train.points)
    np.testing.assert_array_equal(clean.train.targets, noisy.train.targets)
    np.testing.assert_array_equal(clean.test.targets, noisy.test.targets)


@pytest.mark.parametrize("name", CLASSIFICATION_DATASETS)
def test_without_noise_classes_are_separate_and_with_noise_they_still_mostly_are(name):
    classes = 5 if name == "five_class" else 2
    assert nearest_neighbour_accuracy(build(dataset=name, noise=0.0)) >= 0.95
    assert nearest_neighbour_accuracy(build(dataset=name, noise=0.3)) >= 1 / classes + 0.25


def test_more_noise_blurs_the_classes_more():
    accuracies = [nearest_neighbour_accuracy(build(dataset="circle", noise=n)) for n in (0.0, 0.25, 0.5)]
    assert accuracies[0] > accuracies[1] > accuracies[2]


def test_without_noise_the_circle_is_a_disc_of_class_1_inside_a_ring_of_class_0():
    dataset = build(dataset="circle", noise=0.0)
    radius = np.hypot(*both(dataset, "points").T)
    labels = both(dataset, "labels")
    assert radius[labels == 1].max() <= 2.5
    assert 3.5 <= radius[labels == 0].min() and radius[labels == 0].max() <= 5.0


def test_without_noise_xor_is_class_1_exactly_where_x1_and_x2_share_a_sign():
    dataset = build(dataset="xor", noise=0.0)
    points = both(dataset, "points")
    np.testing.assert_array_equal(points[:, 0] * points[:, 1] > 0, both(dataset, "labels") == 1)
    assert np.abs(points).min() >= 0.3  # Playground's gap along the axes


def test_gaussian_blobs_sit_on_either_side_of_the_diagonal():
    dataset = build(dataset="gaussian", noise=0.0)
    points, labels = both(dataset, "points"), both(dataset, "labels")
    np.testing.assert_allclose(points[labels == 0].mean(axis=0), [-2, -2], atol=0.2)
    np.testing.assert_allclose(points[labels == 1].mean(axis=0), [2, 2], atol=0.2)


def test_five_class_blobs_sit_evenly_around_a_circle():
    dataset = build(dataset="five_class", noise=0.0)
    points, labels = both(dataset, "points"), both(dataset, "labels")
    centres = np.array([points[labels == k].mean(axis=0) for k in range(5)])
    np.testing.assert_allclose(np.hypot(*centres.T), 4.0, atol=0.3)
    angles = np.sort(np.arctan2(centres[:, 1], centres[:, 0]))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 5, atol=0.15)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_points_without_noise_stay_on_the_plane(name):
    distance = np.abs(both(build(dataset=name, noise=0.0), "points")).max(axis=1)
    if name in ("gaussian", "five_class"):  # Gaussian tails: almost all, not all
        assert (distance <= 6.0).mean() >= 0.99
    else:
        assert distance.max() <= 6.0


@pytest.mark.parametrize(
    ("name", "formula"), [("plane", plane_target), ("multi_gaussian", multi_gaussian_target)]
)
def test_regression_targets_follow_the_formula_exactly_without_noise_and_roughly_with(name, formula):
    clean = build(dataset=name, noise=0.0)
    np.testing.assert_allclose(clean.train.targets[:, 0], formula(clean.train.points), rtol=0, atol=1e-15)
    assert clean.train.targets.min() >= -1.0 and clean.train.targets.max() <= 1.0
    assert clean.train.targets.max() - clean.train.targets.min() > 1.5  # uses most of -1 … 1
    noisy = build(dataset=name, noise=0.3)
    correlation = np.corrcoef(noisy.train.targets[:, 0], formula(noisy.train.points))[0, 1]
    assert 0.5 < correlation < 1.0


def test_the_plane_rises_along_x1_plus_x2():
    assert plane_target(np.array([[6.0, 6.0], [0.0, 0.0], [-3.0, -3.0]])).tolist() == [1.0, 0.0, -0.5]


# --- splits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "ratio", "n_train"),
    [
        (500, 0.5, 250),
        (500, 0.1, 50),
        (500, 0.9, 450),
        (500, 0.3, 150),
        (7, 0.5, 4),
        (3, 0.1, 1),
        (3, 0.9, 2),
    ],
)
def test_the_training_split_takes_round_samples_times_ratio_but_leaves_one_for_each(samples, ratio, n_train):
    dataset = build(dataset="xor", samples=samples, train_ratio=ratio)
    assert len(dataset.train.points) == n_train
    assert len(dataset.test.points) == samples - n_train
    assert train_size(samples, ratio) == n_train


def test_the_splits_are_disjoint_and_together_are_the_whole_set():
    dataset = build(dataset="moons", samples=300, noise=0.2, train_ratio=0.7)
    every_point = both(dataset, "points")
    assert len(np.unique(every_point, axis=0)) == 300


@pytest.mark.parametrize(("samples", "ratio"), [(1, 0.5), (100, 0.0), (100, 1.0)])
def test_a_split_that_would_leave_a_side_empty_is_refused(samples, ratio):
    with pytest.raises(ValueError):
        build(samples=samples, train_ratio=ratio)


# --- seeds --------------------------------------------------------------------------------------


def assert_same_data(a: Dataset, b: Dataset) -> None:
    for split_a, split_b in ((a.train, b.train), (a.test, b.test)):
        for field in ("points", "inputs", "targets"):
            np.testing.assert_array_equal(getattr(split_a, field), getattr(split_b, field), strict=True)


@pytest.mark.parametrize("name", [*GENERATED, "iris"])
def test_the_same_config_and_seed_give_bit_identical_data_and_another_seed_other_data(name):
    assert_same_data(build(3, dataset=name, noise=0.2), build(3, dataset=name, noise=0.2))
    with pytest.raises(AssertionError):
        assert_same_data(build(3, dataset=name, noise=0.2), build(4, dataset=name, noise=0.2))


def test_making_data_leaves_numpys_global_random_state_alone():
    before = np.random.get_state()[1].copy()
    build(dataset="spiral", noise=0.3)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


# --- names --------------------------------------------------------------------------------------


def test_an_unknown_dataset_without_a_table_is_refused_by_name():
    with pytest.raises(ValueError, match="'swiss_roll'"):
        build(dataset="swiss_roll")


def test_an_unknown_feature_is_refused_by_name():
    with pytest.raises(ValueError, match="'x3'"):
        build(features=("x1", "x3"))


# --- tables -------------------------------------------------------------------------------------


def test_iris_feeds_all_four_standardised_columns_and_draws_the_first_two():
    dataset = build(dataset="iris", train_ratio=0.7, features=("not", "used"))
    assert (dataset.classes, dataset.n_inputs, dataset.planar) == (3, 4, False)
    assert dataset.input_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert dataset.class_names == ("setosa", "versicolor", "virginica")
    assert (len(dataset.train.points), len(dataset.test.points)) == (105, 45)
    np.testing.assert_allclose(dataset.train.inputs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(dataset.train.inputs.std(axis=0), 1.0, atol=1e-12)
    for split in (dataset.train, dataset.test):
        np.testing.assert_array_equal(split.points, split.inputs[:, :2])
        np.testing.assert_array_equal(split.targets.argmax(axis=1), split.labels)


def test_tables_ignore_samples_and_noise():
    assert_same_data(build(dataset="iris"), build(dataset="iris", samples=20, noise=0.5))


def test_an_uploaded_table_is_standardised_with_the_training_splits_statistics_only():
    table = parse_csv("a,b,c,label\n" + "".join(f"{i},{i * i},7,{i % 3}\n" for i in range(20)))
    dataset = build(dataset="upload-1", table=table, train_ratio=0.5)
    assert dataset.name == "upload-1"
    # Standardising keeps the order of column a (0 … 19), so its rank finds each sample's raw row.
    ranks = np.argsort(np.argsort(both(dataset, "inputs")[:, 0]))
    raw = table.values[ranks]  # (20, 3) in the dataset's order
    train_raw = raw[:10]
    mean, std = train_raw.mean(axis=0), train_raw.std(axis=0)
    std[2] = 1.0  # column c is constant: divided by 1, not by 0
    np.testing.assert_allclose(dataset.train.inputs, (train_raw - mean) / std, atol=1e-12)
    np.testing.assert_allclose(dataset.test.inputs, (raw[10:] - mean) / std, atol=1e-12)
    np.testing.assert_array_equal(dataset.train.inputs[:, 2], 0.0)
    assert abs(dataset.test.inputs[:, 0].mean()) > 1e-6  # the test split was not centred on itself
    np.testing.assert_array_equal(both(dataset, "labels"), table.labels[ranks])


def test_a_regression_table_gives_one_raw_target_column():
    table = parse_csv("size,price\n" + "".join(f"{i},{i * 1.5 + 0.25}\n" for i in range(10)))
    dataset = build(dataset="prices", table=table, train_ratio=0.8)
    assert dataset.is_regression and dataset.n_outputs == 1 and dataset.class_names is None
    assert dataset.train.targets.shape == (8, 1) and dataset.train.labels is None
    assert dataset.test.targets.shape == (2, 1)
    np.testing.assert_array_equal(np.sort(both(dataset, "targets")[:, 0]), table.target_values)


def test_a_table_dataset_without_its_table_is_refused():
    with pytest.raises(ValueError, match="'upload-9'"):
        build(dataset="upload-9")


def test_a_one_column_table_is_drawn_on_a_line_at_x2_zero():
    table = parse_csv("x,label\n1,a\n2,a\n3,b\n4,b\n")
    dataset = build(dataset="line", table=table)
    np.testing.assert_array_equal(both(dataset, "points")[:, 1], 0.0)
    assert dataset.extent[2] < 0.0 < dataset.extent[3]


def test_a_tables_extent_is_its_points_range_with_a_ten_percent_margin():
    dataset = build(dataset="iris")
    points = both(dataset, "points")
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (high - low)
    np.testing.assert_allclose(
        dataset.extent, [low[0] - margin[0], high[0] + margin[0], low[1] - margin[1], high[1] + margin[1]]
    )


# --- the grid behind heatmaps ------------------------------------------------------------------


def test_the_grid_covers_the_plane_row_by_row_with_x1_varying_fastest():
    dataset = build(features=("x1", "x2"))
    xs, inputs = grid_inputs(dataset, ("x1", "x2"), 5)
    np.testing.assert_array_equal(xs, [-6.0, -3.0, 0.0, 3.0, 6.0])
    assert inputs.shape == (25, 2)
    np.testing.assert_array_equal(inputs[:5], [[x, -6.0] for x in xs])  # first row: x2 at its minimum
    np.testing.assert_array_equal(inputs[7], [xs[2], xs[1]])  # row 1, column 2


def test_the_grid_is_transformed_like_the_data():
    features = ("x1_x2", "sin_x1", "x2_squared")
    dataset = build(dataset="spiral", features=features)
    xs, inputs = grid_inputs(dataset, features, 7)
    grid_x1, grid_x2 = np.meshgrid(xs, xs)
    np.testing.assert_array_equal(
        inputs, transform(np.column_stack([grid_x1.ravel(), grid_x2.ravel()]), features)
    )


def test_a_tables_grid_moves_the_first_two_columns_and_holds_the_rest_at_their_mean():
    dataset = build(dataset="iris")
    xs, inputs = grid_inputs(dataset, (), 4)
    ys = grid_axes(dataset, 4)[1]
    assert inputs.shape == (16, 4)
    np.testing.assert_allclose(xs, np.linspace(dataset.extent[0], dataset.extent[1], 4))
    np.testing.assert_array_equal(inputs[5, :2], [xs[1], ys[1]])
    np.testing.assert_array_equal(inputs[:, 2:], 0.0)


def test_a_grid_needs_at_least_two_points_a_side():
    with pytest.raises(ValueError):
        grid_inputs(build(), ("x1", "x2"), 1)
