"""The engine stays pure: its modules import only NumPy, numba and the standard library, and
importing every one of them pulls in no web or server code."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import engine
import engine.kernels

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "numba", "engine"}
FORBIDDEN = ("fastapi", "starlette", "uvicorn", "jinja2", "websockets", "pydantic", "server", "httpx", "orjson")


def engine_modules() -> list[str]:
    names = [f"engine.{info.name}" for info in pkgutil.iter_modules(engine.__path__)]
    return names + [f"engine.kernels.{info.name}" for info in pkgutil.iter_modules(engine.kernels.__path__)]


def test_every_engine_file_imports_only_numpy_numba_and_the_standard_library():
    files = sorted((ROOT / "engine").rglob("*.py"))
    assert len(files) >= 20
    for path in files:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
        assert imported <= ALLOWED, f"{path.relative_to(ROOT)} imports {sorted(imported - ALLOWED)}"


def test_importing_every_engine_module_loads_no_web_package():
    modules = engine_modules()
    assert len(modules) >= 20
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "", f"engine imported: {result.stdout.strip()}"
