"""The loss surface: a 2-D slice of the data loss through parameter space around the weights.

Gradient descent walks down a surface over P dimensions; a student can look at two of them at
a time. A *plane* is a centre θ₀ (the current weights) and two directions d₁, d₂ (each laid out
like θ); the slice is the data loss on the training split at

    θ(α, β) = θ₀ + α·d₁ + β·d₂        for α, β on a grid from −span to +span

and its centre (0, 0) is the current loss. Three planes:

- `weight_plane`: two chosen weights, d = the unit vectors of those two parameters, so α and β
  are in weight units (by default the two weights with the largest gradient: the two
  directions the loss is steepest along, one weight at a time);
- `random_plane`: two random *filter-normalised* directions (Li et al. 2018, "Visualizing the
  Loss Landscape of Neural Nets"): a Gaussian vector whose block for each neuron (its incoming
  weights, the column W[l][:, j]) is rescaled to the norm of that neuron's incoming weights,
  biases zero — so a step along it changes every neuron by the same share of its own scale;
- `pca_plane`: the top two principal directions of the recorded trajectory, the rows θᵢ − θ₀
  (orthonormal), with the share of the trajectory's variance each explains.

The trajectory is drawn on the plane by least squares (for orthonormal directions, two dot
products); it ends at θ₀, the centre. The grid is computed by `backprop_lab.engine.kernels.surface`, batched
over the points inside compiled calls, optionally by several threads at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from backprop_lab.engine.bounds import Interval
from backprop_lab.engine.choices import training_codes
from backprop_lab.engine.kernels.metrics import evaluate
from backprop_lab.engine.kernels.surface import first_moving_layer, slice_losses, slice_prefix
from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.engine.losses import Loss
from backprop_lab.engine.network import Network, as_rows
from backprop_lab.engine.validation import check_bound
from backprop_lab.engine.workspace import Workspace

PLANE_KINDS = ("weights", "random", "pca")
# What a slice accepts: an odd resolution puts a grid point exactly on θ₀; past 101 points a side
# the grid costs more than a picture gains. The defaults are what the page first asks for.
SURFACE_BOUNDS: dict[str, Interval] = {
    "resolution": Interval(3, 101, integer=True),
    "span": Interval(0.0, 100.0, low_open=True),
}
DEFAULT_RESOLUTION = 41
DEFAULT_SPAN = 1.0
WeightRef = tuple[int, int, int]  # (layer, i, j): W[layer][i, j]


class SurfaceError(ValueError):
    """A plane that cannot be made: `field` names the request's field that is at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, eq=False)
class Plane:
    """A centre θ₀ (P,) and two directions (2, P) through parameter space."""

    kind: str  # one of PLANE_KINDS
    center: np.ndarray  # (P,)
    directions: np.ndarray  # (2, P)
    weights: tuple[WeightRef, WeightRef] | None = None  # the two weights of a "weights" plane
    explained_variance: tuple[float, float] | None = None  # a "pca" plane's share of variance per axis
    _projector: np.ndarray = field(init=False, repr=False)  # (2, P): the least-squares solve

    def __post_init__(self) -> None:
        directions = self.directions
        gram = directions @ directions.T  # (2, 2)
        if np.allclose(gram, np.eye(2), rtol=0.0, atol=1e-12):
            projector = directions  # orthonormal: the coordinates are dot products
        else:
            projector = np.linalg.pinv(directions.T)  # (2, P): argmin_c ‖Dᵀc − (θ − θ₀)‖
        object.__setattr__(self, "_projector", projector)

    def coordinates(self, parameters: np.ndarray) -> np.ndarray:
        """Where θ lies on the plane, (2,) for one θ (P,) or (n, 2) for rows (n, P): the
        least-squares (α, β) of θ − θ₀ ≈ α·d₁ + β·d₂. θ₀ itself is exactly (0, 0)."""
        return (parameters - self.center) @ self._projector.T

    def at(self, alpha: float, beta: float) -> np.ndarray:
        """θ₀ + α·d₁ + β·d₂ (P,), the parameters at one point of the plane."""
        return self.center + alpha * self.directions[0] + beta * self.directions[1]


def weight_index(layout: ParameterLayout, weight: Sequence[int]) -> int:
    """The flat index of W[layer][i, j]; IndexError naming what is out of range."""
    layer, i, j = weight
    return layout.index_of(int(layer), "weight", int(i), int(j))


def largest_gradient_weights(layout: ParameterLayout, gradient: np.ndarray) -> tuple[WeightRef, WeightRef]:
    """The two weights (not biases) with the largest |∂objective/∂w|, largest first; ties go to
    the lower index."""
    if layout.n_weights < 2:
        raise SurfaceError("directions", f"directions: this network has {layout.n_weights} weight; two are needed")
    magnitude = np.abs(gradient[: layout.n_weights])  # (n_weights,)
    order = np.argsort(-magnitude, kind="stable")
    return _weight_ref(layout, int(order[0])), _weight_ref(layout, int(order[1]))


def _weight_ref(layout: ParameterLayout, index: int) -> WeightRef:
    for layer, (n_in, n_out, weights_at, _, _) in enumerate(layout.table.tolist()):
        if weights_at <= index < weights_at + n_in * n_out:
            i, j = divmod(index - weights_at, n_out)
            return layer, i, j
    raise IndexError(f"parameter {index} is not a weight")


def weight_plane(layout: ParameterLayout, center: np.ndarray, weights: Sequence[Sequence[int]]) -> Plane:
    """The plane that moves two weights by α and β (weight units), all else fixed."""
    if len(weights) != 2:
        raise SurfaceError("weights", f"weights: name exactly two weights, not {len(weights)}")
    indices = []
    refs = []
    for k, weight in enumerate(weights):
        if len(weight) != 3:
            raise SurfaceError("weights", f"weights.{k}: a weight is [layer, i, j], not {list(weight)}")
        try:
            indices.append(weight_index(layout, weight))
        except IndexError as error:
            raise SurfaceError("weights", f"weights.{k}: {error}") from None
        refs.append((int(weight[0]), int(weight[1]), int(weight[2])))
    if indices[0] == indices[1]:
        raise SurfaceError("weights", "weights: the two weights must differ")
    directions = np.zeros((2, layout.size))  # (2, P)
    directions[0, indices[0]] = 1.0
    directions[1, indices[1]] = 1.0
    return Plane("weights", center.copy(), directions, weights=(refs[0], refs[1]))


def filter_normalised(layout: ParameterLayout, center: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random direction (P,): Gaussian, each neuron's incoming-weight block W[l][:, j]
    rescaled to ‖θ₀'s W[l][:, j]‖, biases zero (Li et al. 2018)."""
    direction = rng.standard_normal(layout.size)  # (P,)
    direction[layout.n_weights :] = 0.0
    weights, _ = layout.views(direction)
    centre_weights, _ = layout.views(center)
    for block, own in zip(weights, centre_weights, strict=True):
        block_norms = np.linalg.norm(block, axis=0)  # (n_out,) per neuron
        own_norms = np.linalg.norm(own, axis=0)  # (n_out,)
        scale = np.divide(own_norms, block_norms, out=np.zeros_like(own_norms), where=block_norms > 0.0)
        block *= scale  # in place: `block` is a view into `direction`
    return direction


def random_plane(layout: ParameterLayout, center: np.ndarray, seed: int) -> Plane:
    """Two filter-normalised random directions drawn from `seed` (the same seed, the same plane
    for the same weights)."""
    rng = np.random.default_rng(seed)
    first = filter_normalised(layout, center, rng)
    second = filter_normalised(layout, center, rng)
    return Plane("random", center.copy(), np.stack([first, second]))


def pca_plane(center: np.ndarray, trajectory: np.ndarray) -> Plane:
    """The top two principal directions of the trajectory's rows θᵢ − θ₀ (n, P), not centred
    (as Li et al.: the directions the walk to θ₀ spread most along), orthonormal, each with its
    share σ²/Σσ² of the variance. Each axis is signed so the walk's first point has a
    coordinate ≤ 0: it arrives at the centre from the left and from below."""
    offsets = np.asarray(trajectory, dtype=np.float64) - center  # (n, P)
    if offsets.shape[0] < 2:
        raise SurfaceError("directions", "directions: PCA needs a recorded trajectory: train a few steps first")
    _, singular, right = np.linalg.svd(offsets, full_matrices=False)  # right (min(n, P), P)
    total = float(np.sum(singular**2))
    if singular.shape[0] < 2 or total == 0.0 or singular[1] <= 1e-12 * singular[0]:
        raise SurfaceError(
            "directions", "directions: PCA needs a trajectory that spreads in two directions: train a few more steps"
        )
    directions = right[:2].copy()  # (2, P), orthonormal rows
    for k in range(2):
        if offsets[0] @ directions[k] > 0.0:
            directions[k] = -directions[k]
    share = singular[:2] ** 2 / total
    return Plane("pca", center.copy(), directions, explained_variance=(float(share[0]), float(share[1])))


def grid_axis(span: float, resolution: int) -> np.ndarray:
    """`resolution` values from −span to +span, evenly spaced; with an odd resolution the
    middle one is exactly 0 (the centre of the slice)."""
    half = (resolution - 1) / 2.0
    return span * ((np.arange(resolution) - half) / half)  # (resolution,)


@dataclass(frozen=True, eq=False)
class LossSurface:
    plane: Plane
    x: np.ndarray  # (R,) α of each row of `loss`
    y: np.ndarray  # (R,) β of each column
    loss: np.ndarray  # (R, R) data loss: loss[i, j] at θ₀ + x[i]·d₁ + y[j]·d₂
    center_loss: float  # the data loss at θ₀ (an evaluation of the whole split)
    trajectory: np.ndarray  # (n, 2) the recorded weights on the plane, oldest first, ending at (0, 0)


def loss_surface(
    network: Network,
    loss: Loss,
    inputs: np.ndarray,
    targets: np.ndarray,
    plane: Plane,
    span: float,
    resolution: int,
    trajectory: np.ndarray | None = None,
    workers: int = 1,
    executor: Executor | None = None,
) -> LossSurface:
    """The slice of the data loss over `inputs`/`targets` on `plane` (centred on its θ₀, which
    need not be `network`'s parameters: only the layout, activation and output are used).

    `workers` threads share the grid (the kernels release the GIL), run on `executor` or, if
    none, on threads made for the call. `trajectory` (n, P) is projected onto the plane, and
    θ₀ appended as its last point. `span` and `resolution` must lie in `SURFACE_BOUNDS`."""
    check_bound("span", span, SURFACE_BOUNDS["span"])
    check_bound("resolution", resolution, SURFACE_BOUNDS["resolution"])
    layout = network.layout
    x = grid_axis(span, resolution)
    grid = _grid_losses(network, loss, as_rows(inputs), as_rows(targets), plane, x, x, workers, executor)
    codes = training_codes(network.activation, network.classify, loss.name)
    rows = inputs.shape[0]
    workspace = Workspace(layout, rows)
    confusion = np.zeros((targets.shape[1], targets.shape[1]), dtype=np.int64)
    center_loss, _, _ = evaluate(layout.table, codes, plane.center, as_rows(inputs), as_rows(targets),
                                 workspace.z_buffer, workspace.a_buffer, workspace.losses, confusion)
    path = plane.center[None, :] if trajectory is None else np.vstack([trajectory, plane.center])  # (n + 1, P)
    return LossSurface(plane, x, x.copy(), grid, float(center_loss), plane.coordinates(path))


def _grid_losses(
    network: Network,
    loss: Loss,
    inputs: np.ndarray,
    targets: np.ndarray,
    plane: Plane,
    xs: np.ndarray,
    ys: np.ndarray,
    workers: int,
    executor: Executor | None,
) -> np.ndarray:
    """(len(xs), len(ys)) losses; the flattened grid's point p = i·len(ys) + j is (xs[i], ys[j])."""
    layout = network.layout
    table = layout.table
    codes = training_codes(network.activation, network.classify, loss.name)
    theta = np.ascontiguousarray(plane.center)
    d1 = np.ascontiguousarray(plane.directions[0])
    d2 = np.ascontiguousarray(plane.directions[1])
    rows = inputs.shape[0]
    first = first_moving_layer(table, d1, d2)
    n_first = layout.shapes[first][1]
    prefix = Workspace(layout, rows)
    z0, u, v = np.empty((rows, n_first)), np.empty((rows, n_first)), np.empty((rows, n_first))  # (rows, n_first)
    slice_prefix(table, codes, theta, d1, d2, inputs, first, prefix.z_buffer, prefix.a_buffer, z0, u, v)
    alphas = np.repeat(xs, ys.shape[0])  # (R·R,)
    betas = np.tile(ys, xs.shape[0])  # (R·R,)
    out = np.empty(alphas.shape[0])  # (R·R,)

    def run(start: int, stop: int) -> None:
        own = Workspace(layout, rows)  # every thread writes its own z and a
        moved = np.empty(layout.size)  # (P,)
        slice_losses(table, codes, theta, d1, d2, targets, first, z0, u, v, alphas, betas, start, stop,
                     own.z_buffer, own.a_buffer, own.losses, moved, out)

    points = out.shape[0]
    workers = max(1, min(workers, points))
    bounds = np.linspace(0, points, workers + 1).astype(np.int64).tolist()
    if workers == 1:
        run(0, points)
    elif executor is not None:
        for future in [executor.submit(run, bounds[k], bounds[k + 1]) for k in range(workers)]:
            future.result()
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="surface") as pool:
            for future in [pool.submit(run, bounds[k], bounds[k + 1]) for k in range(workers)]:
                future.result()
    return out.reshape(xs.shape[0], ys.shape[0])
