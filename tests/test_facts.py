"""The page holds no number the server decides (issue 17): every bound, default and cap that the
options document serves (`GET /api/v1/options`, built here in-process with the default
`Settings`) is read from it at run time, never written into static/ or templates/.

The rule fails when such a number is written back where it would act as a bound, and stays
quiet on everyday numbers:

- The numbers the document owns: every `min`, `max`, `default` and `cap` under `ranges` (their
  `ui` min and max too), `analyses` and `runs`, and every cap in `limits` and `runs` (`max_…`,
  `…_length`), except 0, 1 and 2, which count everything (two classes, one step) far more often
  than they bound a setting. Presets and slider steps are the page's own choices, served for
  convenience, and are left out.
- HTML (templates/): such a number as a `min`, `max`, `minlength`, `maxlength`, `step` or
  `value` attribute.
- JavaScript (static/, comments removed): such a number (a) keyed or assigned by a bound word
  or by the name of a field the document bounds (`max: 8`, `input.maxLength = 200`,
  `{resolution: 41}`), or (b) as the value of a constant whose name holds such a field's name
  as whole words (`MAX_COPIES = 8`, `LINE_POINTS = 101`, `MAX_RATE = 1000`). Comparisons and
  clamps are not scanned: `t < 0.5` and `Math.max(10, width)` are everyday code, and a bound
  reaches a comparison through a name, which (b) scans.
- Translations (static/i18n/): such a number right after a phrase that bounds ("up to", "at
  most", "paling banyak", "sampai", … in `BOUND_PHRASES`) or at either end of "N to M": write
  `{max}` and let the page fill it. "(4 features, 3 classes)" or "for example 0.5" say
  something else and pass.

`test_the_scan_finds_each_kind_of_copy` keeps the rule honest: each kind of copy it is meant to
catch is caught, and the everyday numbers it must pass are passed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from backprop_lab.server.options import options_document
from backprop_lab.server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EVERYDAY = {0.0, 1.0, 2.0}
BOUND_KEYS = ("min", "max", "default", "cap")
NUMBER = r"(\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])"
BOUND_PHRASES = (
    "up to", "at most", "at least", "above", "below", "more than", "fewer than", "less than", "maximum", "minimum",
    "paling banyak", "paling besar", "paling kecil", "paling sedikit", "hingga", "lebih dari", "kurang dari",
    "di atas", "di bawah", "maksimum", "minimum",
)  # fmt: skip
RANGE_WORDS = ("to", "sampai", "hingga", "–", "-")


def served() -> dict[str, Any]:
    return json.loads(json.dumps(options_document(Settings()), default=lambda model: model.model_dump()))


def owned_numbers(document: dict[str, Any]) -> set[float]:
    numbers: set[float] = set()

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            if key in BOUND_KEYS or key.startswith("max_") or key.endswith("_length"):
                numbers.add(float(node))

    for section in ("ranges", "analyses", "runs", "limits"):
        walk(document[section], section)
    return numbers - EVERYDAY


def bounded_fields(document: dict[str, Any]) -> set[str]:
    """Names of what the document bounds: each ranged field (`steps`, `copies`, `max_rate`, …) and each cap."""
    names: set[str] = set()
    for section in ("ranges", "analyses", "runs", "limits"):
        stack = [document[section]]
        while stack:
            node = stack.pop()
            for name, value in node.items():
                if isinstance(value, dict) and "min" in value:
                    names.add(name)
                elif isinstance(value, dict):
                    stack.append(value)
                elif isinstance(value, int) and not isinstance(value, bool):
                    names.add(name)
    return names


class Scan:
    """Finds owned numbers in the places the module docstring names; `found` lists
    `"where: the text"` for each."""

    def __init__(self, owned: set[float], fields: set[str]):
        self.owned = owned
        self.fields = fields
        keys = "|".join(sorted({*fields, "min", "max", "minLength", "maxLength", "limit", "default"}, key=len))
        self.keyed = re.compile(rf"(?<![\w$])(?:{keys})\s*[:=]\s*{NUMBER}")
        self.constant = re.compile(rf"\bconst\s+([A-Z][A-Z0-9_]*)\s*=\s*{NUMBER}")
        self.attribute = re.compile(rf'\b(?:min|max|minlength|maxlength|step|value)="{NUMBER}"')
        phrases = "|".join(re.escape(phrase) for phrase in BOUND_PHRASES)
        words = "|".join(re.escape(word) for word in RANGE_WORDS)
        text_number = r"(\d[\d.,]*\d|\d)"
        self.phrase = re.compile(rf"(?i)\b(?:{phrases})\s+{text_number}(?!\w)")
        self.span = re.compile(rf"(?i)(?<![\w.,]){text_number}\s*(?:{words})\s*{text_number}(?!\w)")

    def is_owned(self, literal: str, decimal_comma: bool = False) -> bool:
        text = literal.replace("_", "")  # JavaScript's 100_000
        # a translation's thousands separator goes, its decimal separator becomes a point
        text = text.replace(".", "").replace(",", ".") if decimal_comma else text.replace(",", "")
        try:
            return float(text) in self.owned
        except ValueError:
            return False

    def names_a_field(self, constant: str) -> bool:
        words = f"_{constant.lower()}_"
        return any(f"_{field}_" in words for field in self.fields)

    def javascript(self, where: str, source: str) -> list[str]:
        source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
        found = []
        for number, line in enumerate(source.splitlines(), 1):
            code = re.sub(r"(?<![:\"'\\])//.*$", "", line)
            hits = [m.group(1) for m in self.keyed.finditer(code)]
            hits += [m.group(2) for m in self.constant.finditer(code) if self.names_a_field(m.group(1))]
            found += [f"{where}:{number}: {line.strip()}" for hit in hits if self.is_owned(hit)]
        return found

    def html(self, where: str, source: str) -> list[str]:
        return [
            f"{where}:{number}: {line.strip()}"
            for number, line in enumerate(source.splitlines(), 1)
            for match in self.attribute.finditer(line)
            if self.is_owned(match.group(1))
        ]

    def translations(self, where: str, strings: dict[str, str], decimal_comma: bool) -> list[str]:
        found = []
        for key, text in strings.items():
            hits = [m.group(1) for m in self.phrase.finditer(text)]
            hits += [number for m in self.span.finditer(text) for number in m.groups()]
            found += [f"{where} {key}: {text}" for hit in hits if self.is_owned(hit, decimal_comma)]
        return found


@pytest.fixture(scope="module")
def scan() -> Scan:
    document = served()
    return Scan(owned_numbers(document), bounded_fields(document))


def test_the_page_holds_no_number_the_options_document_owns(scan):
    found = []
    for path in sorted((ROOT / "static").rglob("*.js")):
        if "vendor" not in path.parts:
            found += scan.javascript(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "templates").rglob("*.html")):
        found += scan.html(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "static" / "i18n").glob("*.json")):
        strings = json.loads(path.read_text(encoding="utf-8"))
        found += scan.translations(str(path.relative_to(ROOT)), strings, decimal_comma=path.stem == "id")
    assert found == [], "read these from the options document (static/js/options.js):\n" + "\n".join(found)


def test_the_scan_finds_each_kind_of_copy(scan):
    copies = {
        "const MAX_COPIES = 8;": 1,
        "const LINE_POINTS = 101; const RACE_STEPS_PER_SECOND = 500;": 2,
        "const RANGE_REQUEST = { min_rate: 1e-4, max_rate: 10, steps: 200 };": 3,
        "input.maxLength = 200; settings = { span: 1.0, resolution: 41 };": 2,
        "return Math.max(1, Math.min(100_000, steps)); const HISTORY_LIMIT = 1000; if (t < 0.5) x = 4;": 0,
        "const RUNNING_GAP_MS = 1000; // max: 8": 0,
    }
    for source, count in copies.items():
        assert len(scan.javascript("x.js", source)) == count, source
    assert len(scan.html("x.html", '<input min="1" max="100000" value="1000"><option value="101">')) == 3
    assert scan.html("x.html", '<input min="0" max="0" maxlength="12" value="0.003 0.03 0.3 3">') == []
    english = {
        "a": "Up to 8 rates.", "b": "Give 1 to 8 learning rates above 0 and at most 1000.",
        "c": "Iris flowers (4 features, 3 classes)", "d": "Type a number, for example 0.5.", "e": "3-D surface",
    }  # fmt: skip
    assert [line.split(":")[0] for line in scan.translations("en", english, False)] == ["en a", "en b", "en b"]
    indonesian = {"a": "Paling banyak 8 tingkat.", "b": "di atas 0 dan paling besar 1.000", "c": "misalnya 0,5"}
    assert [line.split(":")[0] for line in scan.translations("id", indonesian, True)] == ["id a", "id b"]
