"""The class: the teacher's lesson that students join with a code and a name (docs/api.md,
"Classes").

One class is open per server at a time. Its code is a share code's kind (six characters of
`share_codes.ALPHABET`, read aloud in two groups, typed loosely). A student joins with the code
and a first name or nickname; the student's identity (`Identity.id`) then belongs to the class,
and so does every session that identity holds or later creates or forks: membership is by the
session's owner, so nothing needs to follow a session around.

Each member has a key (`st_3`), opaque and stable while the class lives, that the teacher's
view and export use instead of the identity id (which is a student's handle on the API), and a
number in joining order. Joining again (a reload, a laptop's sleep) keeps the key and number and
takes the new name.

Names live only here, in memory, while the class lives (docs/reliability.md): ending the class
forgets every one of them. Lives on the event loop. On a worker of a cluster the registry is
that worker's copy of the class, which lives in Redis (`backprop_lab.server.cluster.classes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.live.share_codes import normalise, spoken
from backprop_lab.server.web.lessons import LessonStep
from backprop_lab.server.wire.class_models import MAX_NAME_LENGTH, ChallengeIn, Metric
from backprop_lab.server.wire.problems import CapReached, Conflict, Forbidden, InvalidInput, NotFound

JSON = dict[str, Any]


@dataclass(frozen=True)
class Challenge:
    """The teacher's goal: `metric` reaches `target` (an accuracy at least, a loss at most), on
    `dataset` (None: any) with at most `max_hidden_neurons` hidden neurons in all (None: any)."""

    metric: Metric
    target: float
    dataset: str | None = None
    max_hidden_neurons: int | None = None

    @classmethod
    def of(cls, request: ChallengeIn) -> Challenge:
        return cls(request.metric, request.target, request.dataset, request.max_hidden_neurons)

    def view(self) -> JSON:
        return {"dataset": self.dataset, "metric": self.metric, "target": self.target,
                "max_hidden_neurons": self.max_hidden_neurons}

    def reached(self, dataset: str, hidden_layers: list[int], metrics: JSON) -> bool:
        """Whether a session with this data set, these hidden layers and these metrics meets it."""
        if self.dataset is not None and dataset != self.dataset:
            return False
        if self.max_hidden_neurons is not None and sum(hidden_layers) > self.max_hidden_neurons:
            return False
        value = metrics.get(self.metric)
        if not isinstance(value, int | float) or value != value:  # None (regression) or NaN
            return False
        return value >= self.target if self.metric == "test_accuracy" else value <= self.target


@dataclass
class Member:
    key: str  # "st_3": what the teacher's view calls this student
    number: int  # 1, 2, 3… in joining order
    name: str
    done: set[LessonStep] = field(default_factory=set)  # the lesson steps whose task they reported met


@dataclass
class SchoolClass:
    """One open class: its members and the teacher's settings."""

    code: str
    paused: bool = False
    anonymous: bool = True  # names hidden until the teacher shows them (the view goes on a projector)
    challenge: Challenge | None = None
    lesson: LessonStep | None = None  # where the teacher moved the class; students' pages follow
    members: dict[str, Member] = field(default_factory=dict)  # identity id → member
    ended: bool = False

    @property
    def spoken(self) -> str:
        return spoken(self.code)

    def member(self, identity_id: str) -> Member | None:
        return self.members.get(identity_id)

    def task_done(self, member: Member) -> bool:
        """Whether `member` reported the task of the class's lesson step met."""
        return self.lesson is not None and self.lesson in member.done

    def shown_name(self, member: Member) -> str | None:
        """The name the teacher's view shows: None while anonymous (the page says "Student 3")."""
        return None if self.anonymous else member.name


def check_name(text: str) -> str:
    """A joining student's name, trimmed: 1–24 printable characters, or a 422 naming `name`."""
    name = " ".join(text.split())
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidInput(("body", "name"), f"name: 1 to {MAX_NAME_LENGTH} printable characters, please",
                           code="bad_name", params={"maximum": MAX_NAME_LENGTH})
    return name


Listener = Callable[[SchoolClass, list[str]], None]


class ClassRegistry:
    """The open class (at most one), and who is in it. `on_change(class, identity ids)` is told
    whenever what a student's page shows of the class changes (pause, challenge, lesson step, join, end), with
    the students concerned."""

    def __init__(self, max_members: int) -> None:
        self.max_members = max_members
        self.current: SchoolClass | None = None
        self.on_change: Listener | None = None

    def open(self, code: str) -> tuple[SchoolClass, bool]:
        """(the open class, whether it was opened now with `code`, a code taken for it:
        `class_codes`): opening again gives the open one."""
        if self.current is not None:
            return self.current, False
        self.current = SchoolClass(code)
        return self.current, True

    def get(self, text: str) -> SchoolClass:
        """The open class a typed code names (any case, spaces, dashes), or 404 `unknown_class`."""
        code = normalise(text)
        if code is None or self.current is None or self.current.code != code:
            raise NotFound(f"no open class {text[:32]!r}: check the code (it ends when the teacher ends the class)",
                           "unknown_class")
        return self.current

    def end(self, school_class: SchoolClass) -> None:
        """End the class: its students' pages hear it, and every name is forgotten."""
        school_class.ended = True
        if self.current is school_class:
            self.current = None
        self.changed(school_class, list(school_class.members))
        school_class.members.clear()

    def join(self, text: str, identity: Identity, name: str, number: int | None = None) -> tuple[SchoolClass, Member]:
        """`identity` joins the class `text` names as `name` (or, already in it, renames itself).
        `number`: a new member's number as a cluster counts them (None: the next one here)."""
        if identity.is_teacher:
            raise Conflict("the teacher runs the class and cannot join it as a student", "teacher_cannot_join")
        school_class = self.get(text)
        member = school_class.member(identity.id)
        if member is None:
            number = len(school_class.members) + 1 if number is None else number
            if number > self.max_members:
                raise CapReached(f"this class already has {self.max_members} students, this server's cap",
                                 "class_full", "", {"maximum": self.max_members})
            member = Member(f"st_{number}", number, check_name(name))
            school_class.members[identity.id] = member
        else:
            member.name = check_name(name)
        self.changed(school_class, [identity.id])
        return school_class, member

    def class_of(self, identity_id: str) -> SchoolClass | None:
        """The open class `identity_id` is in, or None."""
        current = self.current
        return current if current is not None and identity_id in current.members else None

    def check_may_train(self, owner: str) -> None:
        """409 `class_paused` when the session's owner is in a paused class: the one check every
        way of training (play, a streamed or a REST step, a phase) goes through."""
        school_class = self.class_of(owner)
        if school_class is not None and school_class.paused:
            raise Conflict("your teacher paused the class; training waits until the teacher resumes it",
                           "class_paused")

    def set_paused(self, school_class: SchoolClass, paused: bool) -> None:
        school_class.paused = paused
        self.changed(school_class, list(school_class.members))

    def set_challenge(self, school_class: SchoolClass, challenge: Challenge | None) -> None:
        school_class.challenge = challenge
        self.changed(school_class, list(school_class.members))

    def set_lesson(self, school_class: SchoolClass, step: LessonStep | None) -> None:
        """Move the class to a lesson step (None: the students go where they like)."""
        school_class.lesson = step
        self.changed(school_class, list(school_class.members))

    def report(self, identity_id: str, step: LessonStep, done: bool) -> None:
        """A student says they met `step`'s task (or, `done` false, that it no longer counts):
        404 `not_in_class` for anyone in no open class."""
        school_class = self.class_of(identity_id)
        member = school_class.member(identity_id) if school_class is not None else None
        if member is None:
            raise NotFound("you are in no open class: join one with its code", "not_in_class")
        if done:
            member.done.add(step)
        else:
            member.done.discard(step)

    def changed(self, school_class: SchoolClass, identity_ids: list[str]) -> None:
        """Tell `on_change` that what these students' pages show of the class changed."""
        if self.on_change is not None and identity_ids:
            self.on_change(school_class, identity_ids)


def teacher_only(identity: Identity) -> None:
    """403 `teacher_only` for a student."""
    if not identity.is_teacher:
        raise Forbidden("only the teacher sees and runs the class", "teacher_only")

