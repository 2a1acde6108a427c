"""Share codes: the short name a presenter reads aloud so a class can watch a session.

A session id is its own access key (128 random bits) and never leaves the presenter's page; a
share code stands for it and gives read-only access (`/watch/{code}`, `/ws/watch/{code}`) and
the right to fork a copy (`POST /api/v1/shares/{code}/fork`). A code is six characters from an
alphabet without look-alikes, shown in two groups of three ("KXM 47P"): of every pair that a
reader or a listener could confuse at least one is left out (0 O Q D, 1 I L J, 2 Z, 5 S, 6 G,
B, U V go; 8 stays, as B has gone). Typing is forgiving: lower case, spaces and dashes are accepted. A code
lives as long as its session; sharing a session again gives the same code.

19⁶ ≈ 47 million codes against at most a few hundred live sessions: guessing one takes about
100,000 tries, each a refused handshake, and it would only let the guesser watch.

Codes are unique across whatever shares them: a `CodeDirectory` holds every code handed out
(share codes and class codes, each under its kind) and lets a code be taken only while it is
free. A single process keeps it in memory (`MemoryDirectory`); the workers of a cluster share one
in Redis (`backprop_lab.server.cluster.directory`), so no two workers hand out the same code and
any worker finds where a code's session or class lives.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

ALPHABET = "ACEFHKMNPRTWXY34789"
CODE_LENGTH = 6


def normalise(text: str) -> str | None:
    """The code as stored ('kxm-47p' → 'KXM47P'), or None when it cannot be a code."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def spoken(code: str) -> str:
    """'KXM47P' → 'KXM 47P': how the page and the console show it."""
    half = CODE_LENGTH // 2
    return f"{code[:half]} {code[half:]}"


SHARE = "codes"  # a share code's kind in a directory: the value says which session (and worker) it names
CLASS = "classcode"  # a class code's kind: the value names the worker that holds the class


class CodeDirectory(Protocol):
    """Every code handed out, by kind, each with a value (what it names)."""

    async def claim(self, kind: str, code: str, value: str) -> bool:
        """Take `code` for `value`: False when it is taken already (by anyone)."""

    async def find(self, kind: str, code: str) -> str | None:
        """The value a taken code names, or None."""

    def release(self, kind: str, code: str) -> None:
        """The code is free again (its session or class ended)."""


class MemoryDirectory:
    """The directory of a single process: a dict. Its `claim` never yields to the event loop, so
    taking a code is one step."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], str] = {}

    async def claim(self, kind: str, code: str, value: str) -> bool:
        return self._values.setdefault((kind, code), value) == value

    async def find(self, kind: str, code: str) -> str | None:
        return self._values.get((kind, code))

    def release(self, kind: str, code: str) -> None:
        self._values.pop((kind, code), None)


async def claim_new(directory: CodeDirectory, kind: str, value: str, make: Callable[[], str] = new_code) -> str:
    """A fresh code of `kind` for `value`, taken in `directory` (drawn again while taken)."""
    while True:
        code = make()
        if await directory.claim(kind, code, value):
            return code


class ShareBook:
    """Which code names which of this process's sessions, both ways, its codes taken in
    `directory` (with `value_of(session id)` as what they name). Lives on the event loop."""

    def __init__(self, directory: CodeDirectory | None = None,
                 value_of: Callable[[str], str] = lambda session_id: session_id) -> None:
        self.directory: CodeDirectory = directory if directory is not None else MemoryDirectory()
        self._value_of = value_of
        self._sessions: dict[str, str] = {}  # code → session id
        self._codes: dict[str, str] = {}  # session id → code

    def __len__(self) -> int:
        return len(self._sessions)

    async def share(self, session_id: str) -> str:
        """The session's code, made on first use."""
        code = self._codes.get(session_id)
        if code is None:
            code = await claim_new(self.directory, SHARE, self._value_of(session_id))
            if session_id in self._codes:  # another request shared it while this one waited
                self.directory.release(SHARE, code)
                return self._codes[session_id]
            self._sessions[code] = session_id
            self._codes[session_id] = code
        return code

    def restore(self, session_id: str, code: str) -> None:
        """Give a session the code it had on another server (a dead worker's session adopted
        here, `backprop_lab.server.cluster.checkpoints`), unless the code names another here."""
        if code not in self._sessions:
            self._sessions[code] = session_id
            self._codes[session_id] = code

    def code_of(self, session_id: str) -> str | None:
        return self._codes.get(session_id)

    def session_of(self, text: str) -> str | None:
        """The session id a typed code names, or None."""
        code = normalise(text)
        return None if code is None else self._sessions.get(code)

    def forget(self, session_id: str, release: bool = True) -> None:
        """The session's code is no longer this server's; also free in the directory unless
        `release` is false (the session goes on on another worker of the cluster, with its code)."""
        code = self._codes.pop(session_id, None)
        if code is not None:
            del self._sessions[code]
            if release:
                self.directory.release(SHARE, code)
