"""The engine stays pure NumPy: importing every engine module pulls in no web or server code."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import engine

FORBIDDEN = ("fastapi", "starlette", "uvicorn", "jinja2", "websockets", "pydantic", "server", "httpx", "orjson")


def test_importing_every_engine_module_loads_no_web_package():
    modules = [f"engine.{info.name}" for info in pkgutil.iter_modules(engine.__path__)]
    assert len(modules) >= 10
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True)
    assert result.stdout.strip() == "", f"engine imported: {result.stdout.strip()}"
