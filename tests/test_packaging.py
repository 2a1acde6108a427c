"""The installed distribution owns its names: one top-level package, `backprop_lab`.

The wheel is built from this tree and installed into a fresh virtual environment, which sees
the running interpreter's packages for the dependencies only (NumPy, numba, FastAPI, …); the
environment's own site-packages, searched first, holds nothing but the wheel. A notebook's
folder with its own `engine.py` and `server.py` must not shadow anything of ours.
"""

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOK = """
import sys
import backprop_lab
from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.app import create_app
from backprop_lab.server.settings import Settings
import engine, server  # the notebook's own files
assert engine.MINE and server.MINE
assert Config().dataset and Trainer  # imported, not run: the installed kernels would compile first
create_app(Settings(db_path=None))
print(backprop_lab.__file__)
"""


def test_the_wheel_installs_one_top_level_package_that_a_notebooks_own_engine_py_cannot_shadow(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(wheels), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("backprop_lab-*.whl")
    environment = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(environment)
    python = environment / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    install = ["install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", "--prefix", str(environment)]
    subprocess.run([sys.executable, "-m", "pip", *install, str(wheel)], check=True, capture_output=True, timeout=300)
    assert (environment / "bin" / "backprop-lab").is_file(), "the console script was not installed"

    installed = {path.name for path in site.iterdir() if path.name != "__pycache__"}
    assert {name for name in installed if not name.endswith(".dist-info")} == {"backprop_lab"}

    notebook = tmp_path / "notebook"
    notebook.mkdir()
    for name in ("engine.py", "server.py"):
        (notebook / name).write_text("MINE = True\n")
    result = subprocess.run([str(python), "-c", NOTEBOOK], cwd=notebook, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(site), "the installed backprop_lab was not the one imported"
