"""Borrowed views: a layer's matrix or vector inside a flat buffer, a matrix's rows or values.

Every step cuts a few dozen views out of the flat buffers (each layer's W inside θ, its z, a and
δ blocks; `passes.block`). numba's `reshape` makes each through a call into its C helpers, and
every view it makes counts a reference to its buffer with an atomic add, once made and once
dropped: on the default network that was a quarter of the step. These views are made in place
and hold no reference: the buffer they borrow from is an argument of the kernel that made them,
alive until the kernel returns, and they never leave it (no kernel returns one).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_untracked
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


@intrinsic
def _borrowed_matrix(typingctx, flat, start, rows, columns):  # type: ignore[no-untyped-def]
    """(rows, columns), C order, from element `start` of a contiguous vector: no bounds check."""
    if not (isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"):
        return None
    matrix_type = types.Array(flat.dtype, 2, "C")

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        flat_value, start_value, rows_value, columns_value = args
        source = make_array(flat)(context, builder, flat_value)
        view = make_array(matrix_type)(context, builder)
        start_at, n_rows, n_columns = (context.cast(builder, value, kind, types.intp)
                                       for value, kind in zip(args[1:], signature.args[1:], strict=True))
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(flat.dtype)))
        populate_array(view, data=cgutils.gep_inbounds(builder, source.data, start_at), shape=[n_rows, n_columns],
                       strides=[builder.mul(n_columns, itemsize), itemsize], itemsize=itemsize, meminfo=None,
                       parent=None)
        return impl_ret_untracked(context, builder, matrix_type, view._getvalue())

    return matrix_type(flat, start, rows, columns), codegen


@intrinsic
def _borrowed_vector(typingctx, flat, start, length):  # type: ignore[no-untyped-def]
    """(length,) from element `start` of a contiguous vector: no bounds check."""
    if not (isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"):
        return None
    vector_type = types.Array(flat.dtype, 1, "C")

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        source = make_array(flat)(context, builder, args[0])
        view = make_array(vector_type)(context, builder)
        start_at, n_values = (context.cast(builder, value, kind, types.intp)
                              for value, kind in zip(args[1:], signature.args[1:], strict=True))
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(flat.dtype)))
        populate_array(view, data=cgutils.gep_inbounds(builder, source.data, start_at), shape=[n_values],
                       strides=[itemsize], itemsize=itemsize, meminfo=None, parent=None)
        return impl_ret_untracked(context, builder, vector_type, view._getvalue())

    return vector_type(flat, start, length), codegen


@intrinsic
def _borrowed_values(typingctx, matrix):  # type: ignore[no-untyped-def]
    """The values of a C-order matrix as one vector (rows · columns,)."""
    if not (isinstance(matrix, types.Array) and matrix.ndim == 2 and matrix.layout == "C"):
        return None
    vector_type = types.Array(matrix.dtype, 1, "C")

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        source = make_array(matrix)(context, builder, args[0])
        view = make_array(vector_type)(context, builder)
        n_rows, n_columns = cgutils.unpack_tuple(builder, source.shape, 2)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(matrix.dtype)))
        populate_array(view, data=source.data, shape=[builder.mul(n_rows, n_columns)], strides=[itemsize],
                       itemsize=itemsize, meminfo=None, parent=None)
        return impl_ret_untracked(context, builder, vector_type, view._getvalue())

    return vector_type(matrix), codegen


@njit(cache=True, nogil=True, error_model="numpy")
def matrix_at(flat: np.ndarray, start: int, rows: int, columns: int) -> np.ndarray:
    """flat[start : start + rows·columns] as a (rows, columns) matrix; IndexError if it does not fit."""
    if start < 0 or rows < 0 or columns < 0 or start + rows * columns > flat.shape[0]:
        raise IndexError("the matrix does not fit in its buffer")
    return _borrowed_matrix(flat, start, rows, columns)  # type: ignore[call-arg]


@njit(cache=True, nogil=True, error_model="numpy")
def values_of(matrix: np.ndarray) -> np.ndarray:
    """A contiguous matrix's values, row after row, as one vector."""
    return _borrowed_values(matrix)  # type: ignore[call-arg]


@njit(cache=True, nogil=True, error_model="numpy")
def vector_at(flat: np.ndarray, start: int, length: int) -> np.ndarray:
    """flat[start : start + length]; IndexError if it does not fit."""
    if start < 0 or length < 0 or start + length > flat.shape[0]:
        raise IndexError("the vector does not fit in its buffer")
    return _borrowed_vector(flat, start, length)  # type: ignore[call-arg]


@njit(cache=True, nogil=True, error_model="numpy")
def row_of(matrix: np.ndarray, row: int) -> np.ndarray:
    """matrix[row] of a contiguous matrix."""
    return vector_at(values_of(matrix), row * matrix.shape[1], matrix.shape[1])


@njit(cache=True, nogil=True, error_model="numpy")
def first_rows(matrix: np.ndarray, rows: int) -> np.ndarray:
    """matrix[:rows] of a contiguous matrix."""
    return matrix_at(values_of(matrix), 0, rows, matrix.shape[1])
