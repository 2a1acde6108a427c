"""The lesson pages and the lesson files behind them: `/lessons` lists the lessons in order,
`/lessons/{lesson}/{step}` is the lab with that step's panel, an unknown lesson or step is the list
again (404), and every lesson file is sound: a config the server accepts, a highlighted view the
page has, a task kind js/lessons/tasks.js checks, and its texts in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "static" / "lessons"
ORDER: list[str] = json.loads((LESSONS / "catalogue.json").read_text())["lessons"]
FILES = {lesson_id: json.loads((LESSONS / f"{lesson_id}.json").read_text()) for lesson_id in ORDER}
TRANSLATIONS = {lang: json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text()) for lang in ("en", "id")}
TASK_KINDS = set(re.findall(r"^  (\w+): \{$", (ROOT / "static/js/lessons/tasks.js").read_text(), re.M))
PAGE_IDS = set(re.findall(r'\bid="([\w-]+)"', (ROOT / "templates/index.html").read_text()))


def test_the_list_links_every_lesson_in_order(live):
    page = httpx.get(f"{live.base}/lessons")
    assert page.status_code == 200 and 'data-testid="lesson-list"' in page.text
    links = re.findall(r'href="/lessons/([\w-]+)/1"', page.text)
    assert links == ORDER
    assert 'href="/lessons"' in httpx.get(f"{live.base}/").text, "the main page has no way to the lessons"


def test_every_step_has_its_deep_link_and_a_lesson_s_own_address_starts_it(live):
    for lesson_id, lesson in FILES.items():
        for step in range(1, len(lesson["steps"]) + 1):
            page = httpx.get(f"{live.base}/lessons/{lesson_id}/{step}")
            assert page.status_code == 200, (lesson_id, step)
            assert f'data-lesson="{lesson_id}" data-lesson-step="{step}"' in page.text
            for hook in ("lesson-text", "lesson-task", "lesson-next", "lesson-back", "lesson-progress"):
                assert f'data-testid="{hook}"' in page.text
        start = httpx.get(f"{live.base}/lessons/{lesson_id}", follow_redirects=False)
        assert start.status_code == 303 and start.headers["location"] == f"/lessons/{lesson_id}/1"


@pytest.mark.parametrize("address", ["/lessons/no-such-lesson/1", "/lessons/no-such-lesson", "/lessons/neurons/0",
                                     "/lessons/neurons/99", "/lessons/neurons/two", "/lessons/neurons/%3Cb%3E"])
def test_an_unknown_lesson_or_step_is_the_list_again_with_a_404(live, address):
    page = httpx.get(f"{live.base}{address}")
    assert page.status_code == 404 and 'data-testid="lesson-list"' in page.text and 'id="lesson-unknown"' in page.text
    assert "<b>" not in page.text


@pytest.mark.parametrize("lesson_id", ORDER)
def test_a_lesson_file_is_sound(live, lesson_id):
    lesson = FILES[lesson_id]
    assert isinstance(lesson["number"], int) and 1 <= lesson["number"] <= 9
    for lang, words in TRANSLATIONS.items():
        for part in ("title", "summary"):
            assert f"lesson.{lesson_id}.{part}" in words, (lang, part)
    for step, entry in enumerate(lesson["steps"], start=1):
        config = {**lesson.get("config", {}), **entry.get("config", {})}
        created = httpx.post(f"{live.base}/api/v1/sessions", json=config)
        assert created.status_code == 201, (step, created.text)
        httpx.delete(f"{live.base}/api/v1/sessions/{created.json()['id']}")
        assert entry["highlight"] in PAGE_IDS, f"step {step} highlights #{entry['highlight']}, which the page lacks"
        task = entry["task"]
        assert task["kind"] in TASK_KINDS, f"step {step}: js/lessons/tasks.js has no task kind {task['kind']!r}"
        thresholds = {**task, **task.get("requires", {})}
        numbers = {name for name, value in thresholds.items() if isinstance(value, int | float)}
        for lang, words in TRANSLATIONS.items():
            for part in ("title", "text", "task"):
                key = f"lesson.{lesson_id}.{step}.{part}"
                assert words.get(key), f"{lang}: {key} is missing"
            placeholders = set(re.findall(r"\{(\w+)\}", words[f"lesson.{lesson_id}.{step}.task"]))
            assert placeholders <= numbers, f"{lang} step {step}: the task names {placeholders - numbers}"
