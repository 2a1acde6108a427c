"""Borrowed views (engine/lowlevel/views.py): a layer's matrix inside a flat buffer reads and
writes that buffer, in row order, and a view that would run past the buffer is refused; and
every kernel is compiled with the options the views and the vectorised tanh rely on."""

import ast
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from backprop_lab.engine.lowlevel.views import matrix_at, values_of


@njit
def write_through(flat, start, rows, columns):  # type: ignore[no-untyped-def]
    matrix = matrix_at(flat, start, rows, columns)
    for s in range(rows):
        for j in range(columns):
            matrix[s, j] = 10.0 * s + j
    values = values_of(matrix)
    total = 0.0
    for p in range(values.shape[0]):
        total += values[p] * (p + 1)
    return total


def test_a_matrix_view_writes_its_block_of_the_flat_buffer_in_row_order():
    flat = np.full(12, -1.0)
    total = write_through(flat, 3, 2, 3)
    assert flat.tolist() == [-1, -1, -1, 0, 1, 2, 10, 11, 12, -1, -1, -1]
    assert total == sum(value * (p + 1) for p, value in enumerate([0, 1, 2, 10, 11, 12]))


@pytest.mark.parametrize("start,rows,columns", [(7, 2, 3), (-1, 1, 1), (0, 4, 4)])
def test_a_view_that_does_not_fit_is_refused(start, rows, columns):
    with pytest.raises(IndexError, match="does not fit"):
        write_through(np.zeros(12), start, rows, columns)


# The one kernel that keeps the GIL, on purpose: `train` for calls too short to be worth giving
# it away (`Trainer._brief`); everything it computes is `train`'s.
KEEPS_GIL = {("training.py", "train_keeping_gil")}


def test_every_kernel_is_compiled_the_same_way():
    """Every kernel is nogil (but KEEPS_GIL), cached and divides as IEEE 754 says: a kernel
    compiled with Python's division checks keeps the inlined tanh out of the vector units (2×
    slower), and one without nogil would keep the other training thread waiting."""
    kernels = Path(__file__).resolve().parents[2] / "engine" / "kernels"
    found = 0
    for path in sorted(kernels.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "njit":
                        options = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
                        nogil = (path.name, node.name) not in KEEPS_GIL
                        assert options.get("cache") is True and options.get("nogil", False) is nogil, (path.name,
                                                                                                     node.name)
                        assert options.get("error_model") == "numpy", (path.name, node.name)
                        found += 1
    assert found >= 40
