"""The command line's argument types, shared by `backprop-lab` (`cli`) and `backprop-lab cluster`
(`cluster.launcher`): each refuses a bad value with a sentence argparse shows beside the flag."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from backprop_lab.server.classroom.identity import check_teacher_key


def at_least_one(noun: str) -> Callable[[str], int]:
    """An argparse type: a whole number of `noun`s, at least 1."""

    def parse(text: str) -> int:
        try:
            count = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a whole number of {noun}s, at least 1, not {text!r}") from None
        if count < 1:
            raise argparse.ArgumentTypeError(f"at least 1 {noun}, not {count}")
        return count

    return parse


thread_count = at_least_one("thread")
worker_count = at_least_one("worker")


def teacher_key(text: str) -> str:
    """An argparse type: a teacher key long enough to be a secret."""
    try:
        return check_teacher_key(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
