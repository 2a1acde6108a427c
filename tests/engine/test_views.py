"""Borrowed views (engine/kernels/views.py): a layer's matrix inside a flat buffer reads and
writes that buffer, in row order, and a view that would run past the buffer is refused."""

import numpy as np
import pytest
from numba import njit

from engine.kernels.views import matrix_at, values_of


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
