"""The teacher's class over the workers of a cluster (docs/classroom.md, "A class over several
workers").

The students of one class land on different workers (the proxy balances new sessions), and the
class page is on whichever worker serves the teacher. Each worker keeps the class in its own
`ClassRegistry`, a replica, so what reads the class stays as it is (the training gate, a
student's `class` message, the view's members). What changes it goes through Redis, where the
open class lives (every key through `link.key`):

- `class:open` → the open class's code (one class per cluster, as one per server); its code is
  taken in the cluster's code directory (`classes.class_codes`: `classcode:{CODE}`) like any;
- `class:{CODE}`: a hash of the teacher's settings (`paused`, `anonymous`, `challenge`, `lesson`);
- `class:{CODE}:members`: a hash, identity id → the member (key, number, name, lesson steps met);
  `class:{CODE}:numbers`: the last number given;
- `class:{CODE}:cards`: a hash, worker → its students' cards (`ClassViewer.cards`) and when;
  `class:{CODE}:watched`: there while a class page watches;
- `class:{CODE}:replies:{id}`: the workers' answers to one command.

A change is made here, written to Redis and announced as a command on the channel `class:bus`:
every worker (this one too) reads the class back into its replica and does its part for its own
students (pauses their sessions, tells their pages, applies a pushed config) and answers. The
command returns once every worker that heard it (PUBLISH counts them) has answered, or after
`ANSWER_SECONDS` (a worker that died meanwhile), so when the teacher's request returns every
worker has done it. While a class page watches, every worker publishes its students' cards every
`VIEW_SECONDS`; a view is this worker's cards and the others' fresh ones (`CARDS_FRESH_SECONDS`).
Ending the class deletes the keys; each expires after `CLASS_TTL_SECONDS` anyway.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from backprop_lab.server.classes import control
from backprop_lab.server.classes.actions import ClassActions
from backprop_lab.server.classes.registry import (
    Challenge,
    ClassRegistry,
    Member,
    SchoolClass,
    check_name,
)
from backprop_lab.server.classes.view import VIEW_SECONDS, ClassViewer
from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.cluster.link import ClusterLink, key
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.share_codes import CLASS, claim_new
from backprop_lab.server.web.lessons import LessonStep
from backprop_lab.server.wire.config_models import ConfigIn

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)
JSON = dict[str, Any]
BUS = key("class", "bus")
OPEN = key("class", "open")
CLASS_TTL_SECONDS = 12 * 3600  # a safety net: a lesson's day; ending the class deletes every key at once
ANSWER_SECONDS = 5.0  # a command waits this long for every worker's answer
ANSWERS_KEPT_SECONDS = 60  # late answers to a command nobody waits for any more go after this
WATCHED_MS = 2000  # a class page that stopped asking for views stops the workers' cards after this
CARDS_FRESH_SECONDS = 3.0  # a worker's cards older than this are a dead worker's: not shown
PARTS = ((), ("members",), ("numbers",), ("cards",), ("watched",))  # a class's keys: `class_key(code, *part)`


def class_key(code: str, *parts: str) -> str:
    return key("class", code, *parts)


def _member_text(member: Member) -> str:
    return json.dumps({"key": member.key, "number": member.number, "name": member.name,
                       "done": sorted([step.lesson, step.step] for step in member.done)})


def _text(value: bytes | str) -> str:
    """A Redis reply as text (the link's client answers bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def _member_of(text: bytes) -> Member:
    data = json.loads(text)
    done = {LessonStep(lesson, step) for lesson, step in data["done"]}
    return Member(data["key"], data["number"], data["name"], done)


def _challenge_of(data: JSON | None) -> Challenge | None:
    return None if data is None else Challenge(data["metric"], data["target"], data["dataset"],
                                               data["max_hidden_neurons"])


def _lesson_of(data: JSON | None) -> LessonStep | None:
    return None if data is None else LessonStep(data["id"], data["step"])


def _report_end(task: asyncio.Task[None]) -> None:
    """A task of the class's that stopped other than by being cancelled: this worker no longer
    hears the class's commands (Redis went away); say so where the operator looks."""
    if not task.cancelled() and task.exception() is not None:
        logger.error("the class across workers: %s stopped", task.get_name(), exc_info=task.exception())


class SharedClasses(ClassActions):
    """`ClassActions` for a worker of a cluster: the class shared through Redis."""

    def __init__(self, link: ClusterLink, registry: ClassRegistry, manager: SessionManager,
                 viewer: ClassViewer) -> None:
        super().__init__(registry, manager, viewer)
        self.link = link
        self.redis = link.redis
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Listen for commands (before this worker answers anything: a command counts the workers
        listening), publish cards while a class page watches, and take the open class, if any.
        A Redis that cannot be reached fails the start, saying so."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(BUS)
        self._tasks = [asyncio.create_task(self._listen(pubsub), name="class-commands"),
                       asyncio.create_task(self._publish_while_watched(), name="class-cards")]
        for task in self._tasks:
            task.add_done_callback(_report_end)
        code = await self.redis.get(OPEN)
        if code is not None:
            await self._load(_text(code))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # What the routes ask

    async def open(self) -> tuple[SchoolClass, bool]:
        while True:
            current = self.registry.current
            if current is not None:
                return current, False
            directory = self.manager.shares.directory
            code = await claim_new(directory, CLASS, self.link.worker)  # no share code nor other class has it
            await self._write(SchoolClass(code))  # first: an open class always has its settings
            if await self.redis.set(OPEN, code, nx=True, ex=CLASS_TTL_SECONDS):
                school_class, _ = self.registry.open(code)
                await self._command(code, "sync")
                return school_class, True
            await self.redis.delete(class_key(code))
            directory.release(CLASS, code)
            opened = await self.redis.get(OPEN)  # another worker opened one just now: that is the class
            if opened is not None:
                await self._load(_text(opened))

    async def join(self, code: str, identity: Identity, name: str) -> tuple[SchoolClass, Member]:
        number = None
        if not identity.is_teacher:  # (the teacher is refused by the registry, as on one server)
            school_class = self.registry.get(code)
            if school_class.member(identity.id) is None:
                check_name(name)  # before a number is spent on it
                numbers = class_key(school_class.code, "numbers")
                number = await self.redis.incr(numbers)
                await self.redis.expire(numbers, CLASS_TTL_SECONDS)
        school_class, member = self.registry.join(code, identity, name, number)
        await self._save_member(school_class, identity.id, member)
        await control.joined(self.manager, school_class, identity.id)
        await self._command(school_class.code, "sync")
        return school_class, member

    async def changed(self, school_class: SchoolClass) -> None:
        await self._save(school_class)

    async def set_paused(self, school_class: SchoolClass, paused: bool) -> None:
        await super().set_paused(school_class, paused)
        await self._save(school_class)

    async def push_config(self, school_class: SchoolClass, changes: ConfigIn) -> JSON:
        answers = await self._command(school_class.code, "config",
                                      changes=changes.model_dump(mode="json", exclude_unset=True))
        return {"applied": sum(answer.get("applied", 0) for answer in answers),
                "refused": [refusal for answer in answers for refusal in answer.get("refused", [])]}

    async def report(self, identity_id: str, step: LessonStep, done: bool) -> None:
        await super().report(identity_id, step, done)
        school_class = self.registry.class_of(identity_id)
        member = school_class.member(identity_id) if school_class is not None else None
        if school_class is not None and member is not None:
            await self._save_member(school_class, identity_id, member)
            await self._command(school_class.code, "sync")

    async def end(self, school_class: SchoolClass) -> None:
        await super().end(school_class)
        code = school_class.code
        await self.redis.delete(*(class_key(code, *part) for part in PARTS))
        if await self.redis.get(OPEN) == code.encode():
            await self.redis.delete(OPEN)
        await self._command(code, "sync")

    async def view(self, school_class: SchoolClass, join_url: str, *, refresh: bool = True) -> JSON:
        if school_class.ended:  # the class socket's last view: nobody's cards, and no key written again
            return await super().view(school_class, join_url)
        code = school_class.code
        await self.redis.set(class_key(code, "watched"), "1", px=WATCHED_MS)
        if refresh:
            await self._command(code, "cards")
        now = time.time()
        elsewhere: dict[str, list[JSON]] = {}
        for worker, text in (await self.redis.hgetall(class_key(code, "cards"))).items():
            published = json.loads(text)
            if _text(worker) != self.link.worker and now - published["at"] <= CARDS_FRESH_SECONDS:
                for member_key, card in published["cards"].items():
                    elsewhere.setdefault(member_key, []).append(card)
        return self.viewer.view(school_class, join_url, elsewhere)

    # Redis

    async def _save(self, school_class: SchoolClass) -> None:
        """Write the teacher's settings, then have every worker take them."""
        await self._write(school_class)
        await self._command(school_class.code, "sync")

    async def _write(self, school_class: SchoolClass) -> None:
        challenge, lesson = school_class.challenge, school_class.lesson
        settings = class_key(school_class.code)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(settings, mapping={
                "paused": int(school_class.paused), "anonymous": int(school_class.anonymous),
                "challenge": json.dumps(challenge.view() if challenge is not None else None),
                "lesson": json.dumps(lesson.view() if lesson is not None else None)})
            pipe.expire(settings, CLASS_TTL_SECONDS)
            pipe.expire(OPEN, CLASS_TTL_SECONDS)
            await pipe.execute()

    async def _save_member(self, school_class: SchoolClass, identity_id: str, member: Member) -> None:
        members = class_key(school_class.code, "members")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(members, identity_id, _member_text(member))
            pipe.expire(members, CLASS_TTL_SECONDS)
            await pipe.execute()

    async def _load(self, code: str) -> None:
        """Bring this worker's replica to the class as Redis holds it, and do this worker's part
        of what changed: pause its students' sessions, tell their pages."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(OPEN)
            pipe.hgetall(class_key(code))
            pipe.hgetall(class_key(code, "members"))
            opened, settings, members = await pipe.execute()
        current = self.registry.current
        if opened != code.encode() or not settings:  # the class ended
            if current is not None and current.code == code:
                self.registry.end(current)
            return
        if current is None or current.code != code:
            if current is not None:
                self.registry.end(current)
            current = self.registry.current = SchoolClass(code)
        told: set[str] = set()
        newcomers = []
        for identity_id, text in members.items():
            member, known = _member_of(text), current.member(identity_id.decode())
            if known is None:
                current.members[identity_id.decode()] = member
                newcomers.append(identity_id.decode())
            elif known.name != member.name:
                known.name = member.name
                told.add(identity_id.decode())
            if known is not None:
                known.done = member.done
        told.update(newcomers)
        current.anonymous = settings[b"anonymous"] == b"1"
        challenge = _challenge_of(json.loads(settings[b"challenge"]))
        lesson = _lesson_of(json.loads(settings[b"lesson"]))
        if (challenge, lesson) != (current.challenge, current.lesson):
            current.challenge, current.lesson = challenge, lesson
            told.update(current.members)
        paused = settings[b"paused"] == b"1"
        if paused != current.paused:
            await control.set_paused(self.manager, self.registry, current, paused)  # tells every student
            return
        for identity_id in newcomers:
            await control.joined(self.manager, current, identity_id)
        self.registry.changed(current, sorted(told))

    async def _command(self, code: str, kind: str, **payload: object) -> list[JSON]:
        """Announce a command to every worker; their answers (those in time)."""
        command_id = secrets.token_hex(8)
        replies = class_key(code, "replies", command_id)
        heard = await self.redis.publish(BUS, json.dumps({"id": command_id, "code": code, "kind": kind, **payload}))
        answers: list[JSON] = []
        deadline = time.monotonic() + ANSWER_SECONDS
        while len(answers) < heard and (left := deadline - time.monotonic()) > 0:
            popped = await self.redis.blpop([replies], timeout=left)
            if popped is None:
                logger.warning("class %s: %d of %d workers answered %r in time", code, len(answers), heard, kind)
                break
            answers.append(json.loads(popped[1]))
        return answers

    async def _listen(self, pubsub: PubSub) -> None:
        try:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    await self._obey(json.loads(message["data"]))
        finally:
            await pubsub.aclose()

    async def _obey(self, command: JSON) -> None:
        """Do this worker's part of a command and answer it (an answer even when it failed here:
        the teacher's request waits for it)."""
        try:
            answer = await self._answer(command)
        except Exception:
            logger.exception("class %s: command %r failed on this worker", command["code"], command["kind"])
            answer = {}
        replies = class_key(command["code"], "replies", command["id"])
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(replies, json.dumps(answer))
            pipe.expire(replies, ANSWERS_KEPT_SECONDS)
            await pipe.execute()

    async def _answer(self, command: JSON) -> JSON:
        await self._load(command["code"])
        current = self.registry.current
        if current is None or current.code != command["code"]:
            return {}
        if command["kind"] == "config":
            return await control.push_config(self.manager, current, ConfigIn.model_validate(command["changes"]))
        if command["kind"] == "cards":
            await self._publish_cards(current)
        return {}

    async def _publish_cards(self, school_class: SchoolClass) -> None:
        cards = class_key(school_class.code, "cards")
        published = {"at": time.time(), "cards": self.viewer.cards(school_class)}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(cards, self.link.worker, json.dumps(published))
            pipe.expire(cards, CLASS_TTL_SECONDS)
            await pipe.execute()

    async def _publish_while_watched(self) -> None:
        """This worker's students' cards, every `VIEW_SECONDS` while a class page watches."""
        while True:
            await asyncio.sleep(VIEW_SECONDS)
            current = self.registry.current
            try:
                if current is not None and await self.redis.exists(class_key(current.code, "watched")):
                    await self._publish_cards(current)
            except Exception:  # Redis away for a moment: the next round tries again
                logger.exception("class %s: cards not published", current.code if current else "")
