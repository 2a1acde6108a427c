"""The page's modules keep to their jobs (STYLE §13): only store.js writes the store, renderers
never call the REST API, and no module keeps its own copy of what the options serve."""

from __future__ import annotations

import re

from browser_helpers import ROOT

SOURCES = {path.relative_to(ROOT).as_posix(): path.read_text() for path in (ROOT / "static/js").rglob("*.js")}

# `store.x = …`, `store.x.y += …`, `store.x[i] = …` (but not `===`)
STORE_WRITE = re.compile(r"\bstore(\.\w+)+(\[[^\]]*\])*\s*(=(?!=)|\+=|-=|\+\+|--)")


def test_only_store_js_writes_the_store():
    writes = [
        f"{path}:{number}: {line.strip()}"
        for path, text in SOURCES.items()
        if path != "static/js/store.js"
        for number, line in enumerate(text.splitlines(), 1)
        if STORE_WRITE.search(line)
    ]
    assert writes == []


def test_renderers_never_call_the_rest_api():
    callers = [path for path, text in SOURCES.items() if path.startswith("static/js/render/") and "api.js" in text]
    assert callers == []


def test_the_page_keeps_no_copy_of_the_options():
    for name, text in SOURCES.items():
        for copy in ("FEATURE_FORMULAS", "ACTIVATION_TEXT", "LEARNING_RATES", '"multi_gaussian"', '"1 − a²"', '"x₁²"'):
            assert copy not in text, f"{name} holds {copy}"
