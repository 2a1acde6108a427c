"""Data sets: the generated 2-D sets of TensorFlow Playground, and tables (Iris, uploaded CSVs).

Every set ends up as a `Dataset` with a training and a test `Split`. A split keeps three views
of the same samples:
- `points` (n, 2): where each sample is drawn on the plane;
- `inputs` (n, n_inputs): what the network is fed (features of the point, or table columns);
- `targets` (n, K) one-hot for classification, (n, 1) for regression: the ground truth.

The generated sets follow Playground's conventions, so a teacher's Playground lesson carries
over: points lie in about [-6, 6] × [-6, 6], and `noise` (0 … 0.5) is a fraction of each set's
own scale (the circle's radius, the spiral's arm spacing, …). Each generator always draws its
noise, even when `noise` is 0, so the same seed with another noise level gives the same
samples, in the same order, with the same labels, only displaced: the class a point belongs
to never depends on the noise, only where it is drawn does.

Order of randomness (one `numpy.random.Generator`, never global state): the generator's draws,
then one permutation that shuffles the samples before the split. Same config and seed give
bit-identical data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.engine.features import check_feature_names, transform
from backprop_lab.engine.tabular import Table, load_iris

PLANE_EXTENT = (-6.0, 6.0, -6.0, 6.0)  # (x1_min, x1_max, x2_min, x2_max) of the generated sets


@dataclass(frozen=True)
class Split:
    points: np.ndarray  # (n, 2) coordinates drawn on the plane
    inputs: np.ndarray  # (n, n_inputs) what the network is fed
    targets: np.ndarray  # (n, K) one-hot for classification, (n, 1) for regression
    labels: np.ndarray | None  # (n,) int64 class index, None for regression

    @property
    def size(self) -> int:
        return int(self.points.shape[0])


@dataclass(frozen=True)
class Dataset:
    name: str
    classes: int | None  # K, or None for regression
    input_names: tuple[str, ...]  # feature names (2-D sets) or table column names
    class_names: tuple[str, ...] | None
    planar: bool  # True for the generated 2-D sets (inputs are functions of points)
    extent: tuple[float, float, float, float]  # (x1_min, x1_max, x2_min, x2_max) of the plane shown
    train: Split
    test: Split

    @property
    def n_inputs(self) -> int:
        return int(self.train.inputs.shape[1])

    @property
    def n_outputs(self) -> int:
        return 1 if self.classes is None else self.classes

    @property
    def is_regression(self) -> bool:
        return self.classes is None


# ---------------------------------------------------------------------------------------------
# Generators: (n, noise, rng) -> (points (n, 2), labels (n,) int64 or values (n,) float64).
# Samples come out grouped by class; make_dataset shuffles them.


def _class_counts(n: int, classes: int) -> list[int]:
    """As equal as possible: 7 samples in 2 classes are 4 and 3."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def _labels_for(counts: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)  # (n,)


def _uniform_noise(n: int, noise: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-scale, scale, size=(n, 2)) * noise  # (n, 2)


def _polar(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    # Playground's convention: x = r·sin θ, y = r·cos θ.
    return np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])  # (m, 2)


def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 a disc of radius 2.5, class 0 a ring from 3.5 to 5 around it; noise scale 5."""
    radius = 5.0
    inside, outside = _class_counts(n, 2)[::-1]
    ring_r = rng.uniform(0.7 * radius, radius, size=outside)  # (outside,)
    ring_angle = rng.uniform(0.0, 2 * math.pi, size=outside)  # (outside,)
    disc_r = rng.uniform(0.0, 0.5 * radius, size=inside)  # (inside,)
    disc_angle = rng.uniform(0.0, 2 * math.pi, size=inside)  # (inside,)
    points = np.concatenate([_polar(ring_r, ring_angle), _polar(disc_r, disc_angle)])  # (n, 2)
    labels = _labels_for([outside, inside])  # (n,)
    return points + _uniform_noise(n, noise, radius, rng), labels


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 where x1 and x2 share a sign (quadrants 1 and 3), class 0 elsewhere.

    Coordinates are 0.3 … 5.3 away from the axes (Playground's padding keeps a gap along them);
    noise scale 5.
    """
    counts = _class_counts(n, 2)
    magnitudes = rng.uniform(0.3, 5.3, size=(n, 2))  # (n, 2)
    x1_signs = rng.choice(np.array([-1.0, 1.0]), size=n)  # (n,)
    labels = _labels_for(counts)  # (n,)
    x2_signs = np.where(labels == 1, x1_signs, -x1_signs)  # (n,) same sign only for class 1
    points = magnitudes * np.column_stack([x1_signs, x2_signs])  # (n, 2)
    return points + _uniform_noise(n, noise, 5.0, rng), labels


def _blob_std(noise: float) -> float:
    # Playground maps noise 0 … 0.5 to a variance of 0.5 … 4: noise widens the blobs.
    return math.sqrt(0.5 + 7.0 * noise)


def gaussian(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs: class 0 around (-2, -2), class 1 around (2, 2); noise widens them."""
    counts = _class_counts(n, 2)
    centres = np.repeat(np.array([[-2.0, -2.0], [2.0, 2.0]]), counts, axis=0)  # (n, 2)
    points = centres + _blob_std(noise) * rng.standard_normal(size=(n, 2))  # (n, 2)
    return points, _labels_for(counts)


def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms, 1.75 turns out to radius 5; class 0 is class 1 turned by π.

    The arms lie about 1.4 apart, so (as in Playground) the noise scale is 1, not the radius.
    """
    counts = _class_counts(n, 2)
    arms = []
    for label, count in enumerate(counts):
        fraction = np.arange(count) / max(count, 1)  # (count,) 0 … <1 along the arm
        angle = 1.75 * 2 * math.pi * fraction + (math.pi if label == 0 else 0.0)  # (count,)
        arms.append(_polar(5.0 * fraction, angle))  # (count, 2)
    points = np.concatenate(arms)  # (n, 2)
    return points + _uniform_noise(n, noise, 1.0, rng), _labels_for(counts)


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half-circles (scikit-learn's `make_moons`), scaled by 3.5 and centred.

    Class 0 is the upper moon, class 1 the lower one; noise scale 3.5 (the moons' radius).
    """
    scale = 3.5
    upper, lower = _class_counts(n, 2)
    upper_t = rng.uniform(0.0, math.pi, size=upper)  # (upper,)
    lower_t = rng.uniform(0.0, math.pi, size=lower)  # (lower,)
    upper_moon = np.column_stack([np.cos(upper_t), np.sin(upper_t)])  # (upper, 2)
    lower_moon = np.column_stack([1.0 - np.cos(lower_t), 0.5 - np.sin(lower_t)])  # (lower, 2)
    unit = np.concatenate([upper_moon, lower_moon])  # (n, 2) in [-1, 2] × [-0.5, 1]
    points = (unit - np.array([0.5, 0.25])) * scale  # (n, 2) centred on the origin
    return points + _uniform_noise(n, noise, scale, rng), _labels_for([upper, lower])


FIVE_CLASS_CENTRES = np.array(
    [
        [4.0 * math.cos(math.pi / 2 + 2 * math.pi * k / 5), 4.0 * math.sin(math.pi / 2 + 2 * math.pi * k / 5)]
        for k in range(5)
    ]
)  # (5, 2): on a circle of radius 4, class 0 at the top, then anticlockwise


def five_class(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Five Gaussian blobs evenly around a circle: the softmax demo (5 outputs summing to 1)."""
    counts = _class_counts(n, 5)
    centres = np.repeat(FIVE_CLASS_CENTRES, counts, axis=0)  # (n, 2)
    points = centres + _blob_std(noise) * rng.standard_normal(size=(n, 2))  # (n, 2)
    return points, _labels_for(counts)


def plane_target(points: np.ndarray) -> np.ndarray:
    """(x1 + x2) / 12: a tilted plane, -1 … 1 over [-6, 6]²."""
    return (points[:, 0] + points[:, 1]) / 12.0  # (n,)


def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression: the target is `plane_target` of the clean point; noise moves the point (scale 6)."""
    points = rng.uniform(-6.0, 6.0, size=(n, 2))  # (n, 2)
    values = plane_target(points)  # (n,)
    return points + _uniform_noise(n, noise, 6.0, rng), values


# (x1, x2, sign) of each bump: Playground's six, alternating in sign like a chequerboard.
GAUSSIAN_BUMPS = (
    (-4.0, 2.5, 1.0),
    (0.0, 2.5, -1.0),
    (4.0, 2.5, 1.0),
    (-4.0, -2.5, -1.0),
    (0.0, -2.5, 1.0),
    (4.0, -2.5, -1.0),
)


def multi_gaussian_target(points: np.ndarray) -> np.ndarray:
    """Σ sign·exp(−d²/2) over the bumps: each peaks at ±1 and they barely overlap, so -1 … 1."""
    values = np.zeros(points.shape[0])  # (n,)
    for x1, x2, sign in GAUSSIAN_BUMPS:
        squared_distance = (points[:, 0] - x1) ** 2 + (points[:, 1] - x2) ** 2  # (n,)
        values += sign * np.exp(-squared_distance / 2.0)
    return values


def multi_gaussian(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression: `multi_gaussian_target` of the clean point; noise moves the point (scale 6)."""
    points = rng.uniform(-6.0, 6.0, size=(n, 2))  # (n, 2)
    values = multi_gaussian_target(points)  # (n,)
    return points + _uniform_noise(n, noise, 6.0, rng), values


Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class BuiltinDataset:
    """A data set the lab ships: a generated 2-D set (`generator`) or a table read from the
    package (`load`). `classes` is K, or None for a regression set (a linear output, mse)."""

    name: str
    classes: int | None
    generator: Generator | None = None
    load: Callable[[], Table] | None = None

    @property
    def regression(self) -> bool:
        return self.classes is None

    @property
    def tabular(self) -> bool:
        """A table fed all its columns (`features`, `samples` and `noise` do not apply)."""
        return self.load is not None


# The one registry of built-in sets, in the order the page lists them (the `iris` entry's
# classes are its file's three species; tests/engine/test_datasets.py reads the file to check).
BUILTIN: dict[str, BuiltinDataset] = {
    entry.name: entry
    for entry in (
        BuiltinDataset("circle", 2, circle),
        BuiltinDataset("xor", 2, xor),
        BuiltinDataset("gaussian", 2, gaussian),
        BuiltinDataset("spiral", 2, spiral),
        BuiltinDataset("moons", 2, moons),
        BuiltinDataset("five_class", 5, five_class),
        BuiltinDataset("plane", None, plane),
        BuiltinDataset("multi_gaussian", None, multi_gaussian),
        BuiltinDataset("iris", 3, load=load_iris),
    )
}


class _Target(Protocol):
    @property
    def is_regression(self) -> bool: ...


def is_regression_dataset(name: str, table: _Target | None = None) -> bool:
    """The one place that decides whether a data set is a regression set (a linear output, mse)
    or a classification set (softmax, K classes): by the registry for the built-in sets, by its
    target column for an uploaded table (`backprop_lab.engine.tabular`). The validation (which
    loss fits), the server's options and upload replies ask this; a built `Dataset` has
    `classes` None exactly for these sets."""
    if name in BUILTIN or table is None:
        return name in BUILTIN and BUILTIN[name].regression
    return table.is_regression


def default_loss_for(name: str, regression: bool | None = None) -> str:
    """The loss that follows a data set when the user names none."""
    if regression is None:
        regression = is_regression_dataset(name)
    return "mse" if regression else "cross_entropy"


# ---------------------------------------------------------------------------------------------
# From samples to a Dataset.


def train_size(n: int, train_ratio: float) -> int:
    """round(n · train_ratio), kept within 1 … n−1 so that neither split is empty."""
    if n < 2:
        raise ValueError(f"a data set needs at least 2 samples (one to train, one to test), got {n}")
    if not 0.0 < train_ratio < 1.0:
        raise ValueError(f"train_ratio must be between 0 and 1 (exclusive), got {train_ratio!r}")
    return min(max(round(n * train_ratio), 1), n - 1)


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float64)[labels]  # (n, K)


def _splits(
    points: np.ndarray, inputs: np.ndarray, truth: np.ndarray, classes: int | None, n_train: int
) -> tuple[Split, Split]:
    """Cut already-shuffled samples into train (first n_train) and test (the rest)."""
    if classes is None:
        labels = None
        targets = truth.astype(np.float64).reshape(-1, 1)  # (n, 1)
    else:
        labels = truth.astype(np.int64)  # (n,)
        targets = _one_hot(labels, classes)  # (n, K)
    parts = []
    for part in (slice(0, n_train), slice(n_train, None)):
        parts.append(
            Split(
                points=np.ascontiguousarray(points[part]),  # (n_part, 2)
                inputs=np.ascontiguousarray(inputs[part]),  # (n_part, n_inputs)
                targets=np.ascontiguousarray(targets[part]),  # (n_part, K or 1)
                labels=None if labels is None else np.ascontiguousarray(labels[part]),  # (n_part,)
            )
        )
    return parts[0], parts[1]


def _generated_dataset(generator: Generator, classes: int | None, config: Config, rng: np.random.Generator) -> Dataset:
    check_feature_names(config.features)
    n_train = train_size(config.samples, config.train_ratio)
    points, truth = generator(config.samples, config.noise, rng)  # (n, 2), (n,)
    order = rng.permutation(config.samples)  # (n,)
    points, truth = points[order], truth[order]
    inputs = transform(points, config.features)  # (n, n_inputs)
    train, test = _splits(points, inputs, truth, classes, n_train)
    return Dataset(
        name=config.dataset,
        classes=classes,
        input_names=tuple(config.features),
        class_names=None if classes is None else tuple(str(k) for k in range(classes)),
        planar=True,
        extent=PLANE_EXTENT,
        train=train,
        test=test,
    )


def _axis_extent(values: np.ndarray) -> tuple[float, float]:
    """min … max with a 10 % margin each side; a constant axis gets ±1 around its value."""
    low, high = float(values.min()), float(values.max())
    margin = 0.1 * (high - low) if high > low else 1.0
    return low - margin, high + margin


def _table_dataset(name: str, table: Table, train_ratio: float, rng: np.random.Generator) -> Dataset:
    """Shuffle, split, then standardise every column with the TRAINING split's mean and std.

    Standardising (x − mean) / std puts every column on the same scale, so one learning rate
    suits all weights; using only the training split's statistics keeps the test split unseen,
    as it would be for new data.
    """
    rows = table.rows
    n_train = train_size(rows, train_ratio)
    order = rng.permutation(rows)  # (rows,)
    values = table.values[order]  # (rows, d)
    mean = values[:n_train].mean(axis=0)  # (d,)
    std = values[:n_train].std(axis=0)  # (d,)
    std[std == 0.0] = 1.0  # a constant column stays 0 instead of dividing by zero
    inputs = (values - mean) / std  # (rows, d)
    if inputs.shape[1] >= 2:
        points = inputs[:, :2].copy()  # (rows, 2)
    else:
        points = np.column_stack([inputs[:, 0], np.zeros(rows)])  # (rows, 2)
    if table.labels is not None:
        truth = table.labels[order]  # (rows,)
    else:
        assert table.target_values is not None
        truth = table.target_values[order]  # (rows,)
    train, test = _splits(points, inputs, truth, table.classes, n_train)
    extent = _axis_extent(points[:, 0]) + _axis_extent(points[:, 1])
    return Dataset(
        name=name,
        classes=table.classes,
        input_names=table.column_names,
        class_names=table.class_names,
        planar=False,
        extent=extent,
        train=train,
        test=test,
    )


def make_dataset(config: Config, rng: np.random.Generator, table: Table | None = None) -> Dataset:
    """The data set `config.dataset` names, drawn with `rng`.

    Generated sets use `samples`, `noise`, `features` and `train_ratio`; `iris` and an uploaded
    table (passed as `table`) use only `train_ratio` and feed all their columns, standardised.
    """
    entry = BUILTIN.get(config.dataset)
    if entry is not None and entry.generator is not None:
        return _generated_dataset(entry.generator, entry.classes, config, rng)
    if entry is not None and entry.load is not None:
        table = entry.load()
    elif table is None:
        known = ", ".join(BUILTIN)
        raise ValueError(
            f"unknown dataset {config.dataset!r}: not one of {known}, and no uploaded table was given"
        )
    return _table_dataset(config.dataset, table, config.train_ratio, rng)


def grid_axes(dataset: Dataset, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """(xs (G,), ys (G,)): evenly spaced x1 and x2 coordinates spanning `dataset.extent`."""
    if resolution < 2:
        raise ValueError(f"a grid needs a resolution of at least 2, got {resolution}")
    x1_min, x1_max, x2_min, x2_max = dataset.extent
    xs = np.linspace(x1_min, x1_max, resolution)  # (G,)
    ys = np.linspace(x2_min, x2_max, resolution)  # (G,)
    return xs, ys


def grid_inputs(dataset: Dataset, features: Sequence[str], resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """A G×G grid over the plane, as network inputs, for heatmaps and the decision boundary.

    Returns (xs (G,), inputs (G·G, n_inputs)). Row-major with x2 outer: row i·G + j is the point
    (xs[j], ys[i]), ys from `grid_axes` (the same as xs when the extent is square, as for every
    generated set). Generated sets transform the grid with `features`, like their data. A table
    has more columns than the plane has axes: its first two (standardised) columns vary over
    the grid and the others sit at 0, their training mean, so the heatmap is a slice through
    the average sample.
    """
    xs, ys = grid_axes(dataset, resolution)
    grid_x1, grid_x2 = np.meshgrid(xs, ys)  # (G, G) each; rows follow x2
    points = np.column_stack([grid_x1.ravel(), grid_x2.ravel()])  # (G·G, 2)
    if dataset.planar:
        return xs, transform(points, features)  # (G·G, n_inputs)
    inputs = np.zeros((points.shape[0], dataset.n_inputs))  # (G·G, n_inputs)
    width = min(dataset.n_inputs, 2)
    inputs[:, :width] = points[:, :width]
    return xs, inputs
