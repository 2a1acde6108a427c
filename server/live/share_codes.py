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
"""

from __future__ import annotations

import secrets

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


class ShareBook:
    """Which code names which session, both ways. Lives on the event loop."""

    def __init__(self) -> None:
        self._sessions: dict[str, str] = {}  # code → session id
        self._codes: dict[str, str] = {}  # session id → code

    def __len__(self) -> int:
        return len(self._sessions)

    def share(self, session_id: str) -> str:
        """The session's code, made on first use."""
        code = self._codes.get(session_id)
        if code is None:
            code = new_code()
            while code in self._sessions:
                code = new_code()
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

    def forget(self, session_id: str) -> None:
        code = self._codes.pop(session_id, None)
        if code is not None:
            del self._sessions[code]
