"""Wire models of the class (docs/api.md, "Classes"): the teacher's class view, the settings
the teacher changes, a student's joining, and a pushed config's outcome.

The view is built as a plain dict by `backprop_lab.server.classes.view`; the models here
document its shape, and the tests validate answers against them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backprop_lab.server.wire.config_models import MaybeNumber, StateName, _Input

MAX_NAME_LENGTH = 24  # a joining student's name, trimmed
Metric = Literal["test_accuracy", "test_loss", "train_loss"]  # what a challenge is about
Badge = Literal["learning", "converged", "stuck", "diverged", "idle"]  # backprop_lab.server.classes.badges

ClassCode = Annotated[str, Field(min_length=1, max_length=32, description="The class code, typed loosely "
                                 "(any case, with or without spaces and dashes).")]


class ChallengeIn(_Input):
    """The class's goal: `metric` reaches `target` (an accuracy at least, a loss at most), on
    `dataset` (null: any) with at most `max_hidden_neurons` hidden neurons in all (null: any)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"dataset": "spiral", "metric": "test_accuracy", "target": 0.95, "max_hidden_neurons": 8}]})
    dataset: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    metric: Metric = "test_accuracy"
    target: Annotated[float, Field(ge=0, le=1e6)]
    max_hidden_neurons: Annotated[int, Field(ge=1, le=100_000)] | None = None

    @model_validator(mode="after")
    def _accuracy_is_a_fraction(self) -> ChallengeIn:
        if self.metric == "test_accuracy" and self.target > 1:
            raise ValueError("target: an accuracy is a fraction from 0 to 1")
        return self


class ChallengeOut(BaseModel):
    """The class's goal (see `ChallengeIn`)."""

    dataset: str | None
    metric: Metric
    target: float
    max_hidden_neurons: int | None


class LessonStepIn(_Input):
    """A step of a guided lesson (docs/lessons.md): the lesson's id and the step's number, both
    checked against the lesson files (static/lessons)."""

    id: Annotated[str, Field(min_length=1, max_length=64, description="A lesson's id: `neurons`, `activations`, …")]
    step: Annotated[int, Field(ge=1, le=1000, description="The step's number, from 1.")]


class LessonStepOut(BaseModel):
    """The lesson step the teacher moved the class to."""

    id: str
    step: int


class ProgressIn(_Input):
    """A student's report that they met (or no longer count as having met) a lesson step's task."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"lesson": "neurons", "step": 1, "done": True}]})
    lesson: Annotated[str, Field(min_length=1, max_length=64)]
    step: Annotated[int, Field(ge=1, le=1000)]
    done: bool = True


class ClassPatchIn(_Input):
    """The teacher's settings of the class; only the fields given change (`challenge: null` ends
    the challenge, `lesson: null` lets the students go where they like)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"anonymous": False},
        {"challenge": {"dataset": "spiral", "metric": "test_accuracy", "target": 0.95, "max_hidden_neurons": 8}},
        {"lesson": {"id": "neurons", "step": 1}},
    ]})
    anonymous: bool | None = None
    challenge: ChallengeIn | None = None
    lesson: LessonStepIn | None = None


class JoinIn(_Input):
    """A student joins the open class with its code and a first name or nickname."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "kxm-47p", "name": "Ayu"}]})
    code: ClassCode
    name: Annotated[str, Field(max_length=200, description=f"Trimmed; 1 to {MAX_NAME_LENGTH} printable "
                               "characters. Kept in memory only, while the class lives.")]


class JoinOut(BaseModel):
    """The student's place in the class: the code, how it is read aloud, the name, the number."""

    code: str
    spoken: str
    name: str
    number: int


class JoinStatusOut(JoinOut):
    """The student's place in the open class, and what their page shows of it."""

    paused: bool
    challenge: ChallengeOut | None
    lesson: LessonStepOut | None


class ClassConfigOut(BaseModel):
    """The student's session's config, the fields the class page shows."""

    dataset: str
    problem: Literal["classification", "regression"]
    hidden_layers: list[int]
    activation: str
    learning_rate: float
    batch_size: int
    optimizer: str
    loss: str
    regularization: str
    regularization_rate: float


class ClassMetricsOut(BaseModel):
    """The metrics last evaluated for the session's page (whole splits)."""

    train_loss: MaybeNumber
    test_loss: MaybeNumber
    train_accuracy: MaybeNumber = Field(description="Classification only.")
    test_accuracy: MaybeNumber = Field(description="Classification only.")


class ThumbnailOut(BaseModel):
    """The output layer over the input plane, `size`×`size` bytes, base64, row-major, row 0 at the
    top (largest x2): for classification with two classes 255 × P(class 1), with more the index of
    the predicted class (`classes` says how many); for regression the output from its minimum (0)
    to its maximum (255)."""

    size: int
    values: str
    kind: Literal["classification", "regression"]
    classes: int | None = None


class StudentSessionOut(BaseModel):
    """The student's shown session: their most recently active one."""

    id: str
    state: StateName
    step: int
    epoch: int
    steps_per_second: float
    config: ClassConfigOut
    metrics: ClassMetricsOut
    badge: Badge
    losses: list[MaybeNumber] = Field(description="The training loss curve, at most 60 points evenly spread "
                                      "over the run, oldest first, the latest last.")
    thumbnail: ThumbnailOut | None = Field(description="null until the session has drawn its first heatmaps.")
    reached_challenge: bool


class StudentOut(BaseModel):
    """One student of the class."""

    key: str = Field(description="Opaque and stable while the class lives (never the student's identity).")
    number: int
    name: str | None = Field(description="null while the class is anonymous.")
    online: bool = Field(description="A page of theirs is connected.")
    session: StudentSessionOut | None
    task_done: bool = Field(description="They reported the task of the class's lesson step met (false when the "
                            "class is at no step).")


class ClassOut(BaseModel):
    """The class: its code, the teacher's settings, every student and their session."""

    type: Literal["class"]
    code: str
    spoken: str
    join_url: str
    paused: bool
    anonymous: bool
    challenge: ChallengeOut | None
    lesson: LessonStepOut | None = Field(description="The lesson step the teacher moved the class to, or null.")
    students: list[StudentOut]


class RefusedStudentOut(BaseModel):
    """A student whose session refused the pushed config, and why."""

    student: str
    detail: str  # in English, for scripts
    code: str  # the refusal's stable word (docs/api.md, "Errors"), with `field` and `params`, for a page to say
    field: str
    params: dict[str, Any]


class PushedConfigOut(BaseModel):
    """How many sessions took the pushed config, and the students whose session refused it."""

    applied: int
    refused: list[RefusedStudentOut]
