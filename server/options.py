"""The options document (`GET /api/v1/options`): every name, formula and range the page shows,
built from the engine's registries and the wire models, so the page keeps no copy of them.

- Names and formulas come from the engine: data sets (its one registry,
  `backprop_lab.engine.datasets.BUILTIN`), features, activations with f(z) and f′(z), the output
  layers, losses with their output deltas, optimisers' update rules, initialisations and the
  regularisation penalties.
- Ranges come from the pydantic models that validate requests (`ConfigIn`, `StepIn`, the
  WebSocket `Speed` and `RaceStart` messages, the analyses' bodies), read from their field
  constraints — themselves derived from the engine's tables (`CONFIG_BOUNDS`, `SURFACE_BOUNDS`,
  …): what the API accepts (422 outside) is exactly what is served. `cap` is this server's
  configured limit (429 past it).
- `ui` is what the page's controls offer inside those ranges (docs/product.md: 0–6 hidden layers,
  1–16 neurons each, noise 0–50 %, …): slider steps, presets, the smaller UI maxima.

The page keeps no copy of any of these numbers: tests/test_facts.py fails when one is written
into static/ or templates/.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.bounds import Interval
from backprop_lab.engine.config import NEURONS
from backprop_lab.engine.datasets import BUILTIN
from backprop_lab.engine.features import FEATURES
from backprop_lab.engine.features import FORMULAS as FEATURE_FORMULAS
from backprop_lab.engine.formulas import INIT_FORMULAS, NETWORK_FORMULAS
from backprop_lab.engine.losses import LOSSES, OUTPUT_FORMULAS, REGULARIZATIONS
from backprop_lab.engine.network import INITS
from backprop_lab.engine.optimizers import OPTIMIZER_KINDS, OPTIMIZERS
from backprop_lab.engine.surface import PLANE_KINDS
from backprop_lab.server.saved.run_models import (
    DEFAULT_PAGE_SIZE,
    MAX_COMPARED,
    MAX_HISTORY,
    MAX_NAME,
    MAX_NOTE,
    MAX_SNAPSHOTS,
    MAX_TAG,
    MAX_TAGS,
    PAGE_SIZE,
)
from backprop_lab.server.settings import Settings
from backprop_lab.server.wire.analysis_models import LossLineIn, LrSweepIn, RangeTestIn, SurfaceIn
from backprop_lab.server.wire.config_models import ConfigIn
from backprop_lab.server.wire.job_models import JobKind
from backprop_lab.server.wire.protocol import PROTOCOL_VERSION, RaceStart, Speed
from backprop_lab.server.wire.session_models import StepIn

JSON = dict[str, Any]

# What the page's controls offer (docs/product.md); each inside the API's range for that field.
UI_HIDDEN_LAYERS = 6
UI_NEURONS = 16
LEARNING_RATE_PRESETS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 100, 1000]
# The training speeds the page offers, in steps per second, slowest first; 0 = as fast as the engine goes
# ("max"), last. The page starts at DEFAULT_SPEED, a pace a class can watch: on the default network
# (25 steps an epoch) the test accuracy reaches 90 % in about 10 s, the loss curve falls in an S and
# the boundary forms before the class's eyes; "max" finishes the same lesson in half a second.
SPEED_PRESETS = [1, 2, 5, 10, 30, 100, 300, 1000, 10000, 0]
DEFAULT_SPEED = 100
REGULARIZATION_RATE_PRESETS = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
SURFACE_RESOLUTION_PRESETS = [21, 41, 61, 81, 101]  # grid points a side the page's picker offers


def field_range(model: type[BaseModel], name: str) -> JSON:
    """`{"min", "max", "min_exclusive", "max_exclusive", "integer"}` of a numeric field, read
    from its pydantic constraints (None: unbounded on that side). The constraints are pydantic's
    `Ge`, `Gt`, `Le`, `Lt` metadata objects, read by their one attribute."""
    field = model.model_fields[name]
    out: JSON = {"min": None, "max": None, "min_exclusive": False, "max_exclusive": False}
    for constraint in field.metadata:
        if getattr(constraint, "ge", None) is not None:
            out["min"] = constraint.ge
        elif getattr(constraint, "gt", None) is not None:
            out["min"], out["min_exclusive"] = constraint.gt, True
        elif getattr(constraint, "le", None) is not None:
            out["max"] = constraint.le
        elif getattr(constraint, "lt", None) is not None:
            out["max"], out["max_exclusive"] = constraint.lt, True
    out["integer"] = field.annotation is int
    return out


def length_range(model: type[BaseModel], name: str) -> JSON:
    """The same shape for how many items a list field holds (its `min_length`, `max_length`)."""
    out: JSON = {"min": None, "max": None, "min_exclusive": False, "max_exclusive": False, "integer": True}
    for constraint in model.model_fields[name].metadata:
        if getattr(constraint, "min_length", None) is not None:
            out["min"] = constraint.min_length
        if getattr(constraint, "max_length", None) is not None:
            out["max"] = constraint.max_length
    return out


def interval_range(interval: Interval) -> JSON:
    """The same shape written from an engine `Interval` (for what is not a pydantic field)."""
    return {"min": interval.low, "max": interval.high, "min_exclusive": interval.low_open,
            "max_exclusive": interval.high_open, "integer": interval.integer}


def analysis_field(model: type[BaseModel], name: str, cap: int | None = None, **extra: Any) -> JSON:
    """A request field of an analysis: its range, its default (null: none), this server's cap."""
    default = model.model_fields[name].default
    return {**field_range(model, name), "default": default if isinstance(default, int | float) else None,
            "cap": cap, **extra}


def ranges(settings: Settings) -> JSON:
    limits = settings.limits
    layer_count = length_range(ConfigIn, "hidden_layers")
    neurons = interval_range(NEURONS)  # each item of `hidden_layers`

    def with_ui(base: JSON, cap: int | None = None, **ui: Any) -> JSON:
        return {**base, "cap": cap, "ui": {"min": base["min"], "max": base["max"], "step": None, **ui}}

    return {
        "samples": with_ui(field_range(ConfigIn, "samples"), limits.max_rows, min=10, max=limits.max_rows, step=10),
        "noise": with_ui(field_range(ConfigIn, "noise"), step=0.05),
        "train_ratio": with_ui(field_range(ConfigIn, "train_ratio"), step=0.1),
        "seed": with_ui(field_range(ConfigIn, "seed"), max=2**53 - 1, step=1),  # exact in a browser
        "learning_rate": with_ui(field_range(ConfigIn, "learning_rate"), presets=LEARNING_RATE_PRESETS),
        "momentum": with_ui(field_range(ConfigIn, "momentum"), max=0.999, step=0.01),
        "batch_size": with_ui(field_range(ConfigIn, "batch_size"), step=1),
        "regularization_rate": with_ui(
            field_range(ConfigIn, "regularization_rate"), presets=REGULARIZATION_RATE_PRESETS
        ),
        "hidden_layers": with_ui(
            layer_count, limits.max_hidden_layers, max=min(UI_HIDDEN_LAYERS, limits.max_hidden_layers), step=1
        ),
        "neurons": with_ui(neurons, limits.max_neurons, max=min(UI_NEURONS, limits.max_neurons), step=1),
        "steps": with_ui(field_range(StepIn, "steps"), limits.max_steps_per_request, step=1),
        "steps_per_second": with_ui(
            field_range(Speed, "steps_per_second"), presets=SPEED_PRESETS, default=DEFAULT_SPEED
        ),
    }


def analyses(settings: Settings) -> JSON:
    """What each analysis accepts, from the model that validates its requests."""
    max_steps = settings.limits.max_steps_per_request
    resolution = field_range(SurfaceIn, "resolution")
    resolutions = [n for n in SURFACE_RESOLUTION_PRESETS if resolution["min"] <= n <= resolution["max"]]
    return {
        "surface": {
            "directions": list(PLANE_KINDS),
            "resolution": analysis_field(SurfaceIn, "resolution", presets=resolutions),
            "span": analysis_field(SurfaceIn, "span"),
        },
        "race": {
            "copies": {**length_range(RaceStart, "learning_rates"), "default": None, "cap": None},
            "steps": analysis_field(RaceStart, "steps"),
            "steps_per_second": analysis_field(RaceStart, "steps_per_second"),
        },
        "sweep": {
            "copies": {**length_range(LrSweepIn, "learning_rates"), "default": None, "cap": None},
            "steps": analysis_field(LrSweepIn, "steps", max_steps),
        },
        "loss_line": {
            "points": analysis_field(LossLineIn, "points"),
            "max_rate_multiple": analysis_field(LossLineIn, "max_rate_multiple"),
        },
        "range_test": {
            "min_rate": analysis_field(RangeTestIn, "min_rate"),
            "max_rate": analysis_field(RangeTestIn, "max_rate"),
            "steps": analysis_field(RangeTestIn, "steps"),
        },
    }


def jobs(settings: Settings) -> JSON:
    """What a job may ask for (docs/api.md, "Jobs"): the job caps, how long results are kept."""
    caps = settings.jobs
    return {
        "kinds": list(get_args(JobKind)),
        "max_seconds": caps.max_seconds,
        "max_steps": caps.max_steps,
        "max_rates": caps.max_rates,
        "max_range_test_steps": caps.max_range_test_steps,
        "max_history_points": caps.max_history_points,
        "result_ttl_seconds": caps.result_ttl_seconds,
        "max_kept_per_owner": caps.max_kept_per_owner,
        "max_kept": caps.max_kept,
        "max_jobs": settings.limits.max_jobs,
    }


def runs() -> JSON:
    """What a saved run and the list of runs accept (docs/api.md, "Saved runs")."""
    return {
        "name_length": MAX_NAME,
        "page_size": {**interval_range(PAGE_SIZE), "default": DEFAULT_PAGE_SIZE, "cap": None},
        "max_history": MAX_HISTORY,
        "max_snapshots": MAX_SNAPSHOTS,
        "tag_length": MAX_TAG,
        "max_tags": MAX_TAGS,
        "note_length": MAX_NOTE,
        "max_compared": MAX_COMPARED,
    }


def dataset_options() -> list[JSON]:
    """Every built-in set, from the engine's registry: regression or classification, K, and
    whether it is a 2-D set (planar, features apply) or a table (its own columns)."""
    return [
        {
            "name": entry.name,
            "kind": "regression" if entry.regression else "classification",
            "regression": entry.regression,
            "tabular": entry.tabular,
            "classes": entry.classes,
            "planar": not entry.tabular,
        }
        for entry in BUILTIN.values()
    ]


def formulas() -> JSON:
    """How the page writes each choice's maths, keyed by the names the API uses."""
    return {
        "features": {name: FEATURE_FORMULAS[name] for name in FEATURES},
        "activations": {
            name: {"formula": activation.formula, "derivative": activation.derivative_formula}
            for name, activation in ACTIVATIONS.items()
        },
        "outputs": dict(OUTPUT_FORMULAS),
        "losses": {
            name: {
                "formula": loss.formula,
                "delta": {"softmax": loss.softmax_delta_formula, "linear": loss.linear_delta_formula},
            }
            for name, loss in LOSSES.items()
        },
        "optimizers": {name: kind.formula for name, kind in OPTIMIZER_KINDS.items()},
        "inits": {name: INIT_FORMULAS[name] for name in INITS},
        "regularizations": {
            name: {"penalty": penalty.formula, "gradient": penalty.gradient_formula}
            for name, penalty in REGULARIZATIONS.items()
        },
        "network": dict(NETWORK_FORMULAS),
    }


def options_document(settings: Settings) -> JSON:
    limits = settings.limits
    return {
        "datasets": dataset_options(),
        "features": list(FEATURES),
        "activations": list(ACTIVATIONS),
        "losses": list(LOSSES),
        "optimizers": list(OPTIMIZERS),
        "inits": list(INITS),
        "regularizations": list(REGULARIZATIONS),
        "formulas": formulas(),
        "ranges": ranges(settings),
        "analyses": analyses(settings),
        "runs": runs(),
        "defaults": ConfigIn(),
        "limits": {
            "max_sessions": limits.max_sessions,
            "max_parameters": limits.max_parameters,
            "max_rows": limits.max_rows,
            "max_columns": limits.max_columns,
            "max_hidden_layers": limits.max_hidden_layers,
            "max_neurons": limits.max_neurons,
            "max_steps_per_request": limits.max_steps_per_request,
            "max_body_bytes": limits.max_body_bytes,
            "max_message_bytes": limits.max_message_bytes,
            "max_messages_per_second": limits.max_messages_per_second,
            "max_sockets_per_session": limits.max_sockets_per_session,
            "max_viewers_per_session": limits.max_viewers_per_session,
            "max_sockets": limits.max_sockets,
            "max_uploads": limits.max_uploads,
            "max_surfaces": limits.max_surfaces,
            "max_sweeps": limits.max_sweeps,
            "max_races": limits.max_races,
            "max_checks": limits.max_checks,
            "max_jobs": limits.max_jobs,
        },
        "quotas": settings.quotas.document(settings.classroom),
        "jobs": jobs(settings),
        "protocol_version": PROTOCOL_VERSION,
        "frame_rate": settings.timing.frame_rate,
        "heatmap_rate": settings.timing.heatmap_rate,
    }
