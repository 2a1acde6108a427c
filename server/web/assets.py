"""Where the page's files are: an installed package has them at `server/static` and
`server/templates` (pyproject maps the top-level folders there); a source checkout has them at
the repository root. `Settings.static_dir` and `templates_dir` override either (tests)."""

from __future__ import annotations

from pathlib import Path

import backprop_lab.server as server_package
from backprop_lab.server.settings import Settings


def _asset_dir(name: str, override: Path | None) -> Path:
    if override is not None:
        return override
    installed = Path(server_package.__file__).parent / name
    if installed.is_dir():
        return installed
    return Path(server_package.__file__).resolve().parent.parent / name  # a source checkout


def static_dir(settings: Settings) -> Path:
    return _asset_dir("static", settings.static_dir)


def templates_dir(settings: Settings) -> Path:
    return _asset_dir("templates", settings.templates_dir)
