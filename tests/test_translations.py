"""The page's translations (static/i18n/en.json and id.json): every key in both languages with the
same placeholders, every key the page's code and template name present, and the Indonesian
terms of docs/glossary.md rather than the words a review found wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
I18N = ROOT / "static" / "i18n"
EN = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
ID = json.loads((I18N / "id.json").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_every_english_key_has_an_indonesian_text_and_back():
    assert sorted(set(EN) - set(ID)) == [], "keys missing in id.json"
    assert sorted(set(ID) - set(EN)) == [], "keys missing in en.json"


def test_both_languages_fill_the_same_placeholders():
    shared = [key for key in EN if key in ID]
    differ = [f"{key}: {EN[key]!r} / {ID[key]!r}" for key in shared if placeholders(EN[key]) != placeholders(ID[key])]
    assert differ == []


def test_no_text_is_empty_or_left_with_surrounding_spaces():
    for language, texts in (("en", EN), ("id", ID)):
        for key, text in texts.items():
            assert isinstance(text, str) and text.strip() == text and text, f"{language} {key}: {text!r}"


def _keys_named_in_code() -> set[str]:
    """Literal keys: t("…"), has("…"), key: "…" in the scripts, data-i18n and data-help-key in
    the template. Keys built at run time (`activation.${name}`) are checked by the browser tests."""
    names: set[str] = set()
    script = re.compile(r"""(?:\bt|\bhas)\(\s*["']([\w.]+)["']|\bkey:\s*["']([\w.]+)["']""")
    for path in (ROOT / "static" / "js").rglob("*.js"):
        for match in script.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    markup = re.compile(r"""data-(?:i18n|help-key)="([\w.]+)"|:([\w.]+)[;"]""")
    for path in (ROOT / "templates").glob("*.html"):
        for match in markup.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return {name for name in names if "." in name}


def test_every_key_the_page_names_has_a_text():
    missing = sorted(name for name in _keys_named_in_code() if name not in EN)
    assert missing == []


# What the review of the Indonesian page found (issue 11), as patterns, and why each is wrong.
FORBIDDEN = {
    r"selisih hingga": "finite differences are 'beda hingga'",
    r"\bsisi\b": "a connection between neurons is a 'koneksi' ('sisi' reads as 'side')",
    r"melawan 2": "a calque of 'against 2'",
    r"sepakat": "gradients 'cocok'; they do not agree like people",
    r"angka langsung": "a calque of 'live numbers'",
    r"menyederhana menjadi": "a calque of 'simplify to'",
    r"kebingungan": "the confusion matrix is 'confusion matrix (matriks konfusi)'",
    r"hukum": "a regularisation penalty is a 'penalti'",
    r"keluaran": "the glossary keeps 'output'",
    r"tombol panah berpindah": "the keys do not move; the reader moves with them",
}


def test_the_indonesian_texts_use_the_glossarys_terms():
    found = [
        f"{key}: {pattern!r} ({why})"
        for key, text in ID.items()
        for pattern, why in FORBIDDEN.items()
        if re.search(pattern, text.lower())
    ]
    assert found == []
    assert "beda hingga" in ID["inspect.check"] and "koneksi" in ID["network.hint"]
    assert ID["metrics.confusion"].startswith("Confusion matrix (matriks konfusi)")


def test_a_layer_in_an_indonesian_sentence_is_named_as_a_sentence_names_it():
    # "neuron di lapisan tersembunyi 2", not the column label "neuron di Tersembunyi 2"
    assert ID["network.layer_hidden"] == "lapisan tersembunyi {n}"
    assert ID["network.layer_output"] == "lapisan output"


# --- one translation per term, and English only where the glossary keeps it -------------------

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")  # two letters or more: x, y, z, L are symbols
CODE = re.compile(r"\S*/\S*|--\w+")  # an address, a path or a command's option is not a word of either language


def words(text: str) -> set[str]:
    """The words of a text as the page shows it: placeholders and code left out, lower case."""
    return {word.lower() for word in WORD.findall(CODE.sub(" ", PLACEHOLDER.sub(" ", text)))}


def kept_terms() -> set[str]:
    """The words docs/glossary.md lets the Indonesian page share with English (its kept-terms block)."""
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"```kept-terms\n(.*?)```", glossary, re.S)
    assert block, "docs/glossary.md has no kept-terms block"
    return set(block.group(1).split())


ENGLISH_WORDS = set().union(*(words(text) for text in EN.values()))


def test_indonesian_shares_only_the_glossarys_kept_words_with_english():
    kept = kept_terms()
    leaks = sorted(
        f"{key}: {word!r}"
        for key, text in ID.items()
        for word in words(text)
        if word in ENGLISH_WORDS and word not in kept
    )
    assert leaks == []


# Each term the review found in two or three forms, in the one form the glossary gives it.
ONE_WAY = {
    r"propagasi maju|\bmaju\b": "forward pass is 'forward pass'",
    r"propagasi mundur|\bmundur\b": "backward pass is 'backward pass'",
    r"\brun\b": "a saved run is a 'rekaman'",
    r"data ?set": "a data set is a 'kumpulan data'",
    r"\bT\d": "a layer is named in full in a sentence: 'lapisan tersembunyi 1'",
    r"\batas batch|\batas seluruh|softmax atas": "'atas' is a calque of 'over' here",
    r"tingkat tempat": "a calque of 'the rate where'",
    r"mendarat": "a calque of 'lands at'",
    r"/d\b": "'langkah/d' is not a unit a reader knows: 'langkah/detik'",
}


def test_each_term_is_translated_one_way():
    # the text a reader sees (placeholders are names for code), but the phase chips' short "T{n}"
    sentences = {key: PLACEHOLDER.sub(" ", text) for key, text in ID.items() if key != "teach.layer_hidden"}
    found = [
        f"{key}: {pattern!r} ({why})"
        for key, text in sentences.items()
        for pattern, why in ONE_WAY.items()
        if re.search(pattern, text, re.I)
    ]
    assert found == []
    # 'galat' only for the numerical relative error, never for a failure shown to a reader
    assert [key for key, text in ID.items() if "galat" in text.lower() and "galat relatif" not in text.lower()] == []


def test_no_key_is_written_twice_in_a_language():
    """JSON keeps the last of two equal keys without a word: the first text would be lost silently."""
    for path in sorted(I18N.glob("*.json")):
        keys = [key for key, _ in json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=lambda pairs: pairs)]
        assert sorted({key for key in keys if keys.count(key) > 1}) == [], path.name
