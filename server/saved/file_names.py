"""What a downloaded file is called: a run's file is named by the run (its name and step, e.g.
`xor-sweep-lr-0.03-step-2500.json`), never by its id, which says nothing to the person saving it.

The header carries two names (RFC 6266): `filename`, plain ASCII any browser or `curl -OJ`
takes, made of letters, digits, `.`, `_` and `-` only (nothing that climbs out of a folder or
breaks the header); and `filename*`, the name in UTF-8 as the person wrote it (a run called
"Lingkaran ½" keeps its ½), with the same characters a file system refuses replaced.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_STEM = 80  # characters of a name before `-step-N` and the suffix
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_ANY = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|\s]+')


def _stem(text: str, unsafe: re.Pattern[str]) -> str:
    text = re.sub(r"\.{2,}", ".", unsafe.sub("-", text))  # no "..", which reads as a parent folder
    return text.strip(".-_")[:MAX_STEM].strip(".-_")


def download_names(name: str, step: int, suffix: str, fallback: str = "run") -> tuple[str, str]:
    """(ASCII name, Unicode name) of a file for `name` at `step`, ending in `suffix` (".json")."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = _stem(ascii_text, _UNSAFE_ASCII) or fallback
    full = _stem(unicodedata.normalize("NFC", name), _UNSAFE_ANY) or plain
    return f"{plain}-step-{step}{suffix}", f"{full}-step-{step}{suffix}"


def attachment(name: str, step: int, suffix: str, fallback: str = "run") -> str:
    """A `Content-Disposition` value that saves the file under `download_names`."""
    plain, full = download_names(name, step, suffix, fallback)
    if plain == full:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(full, safe='')}"
