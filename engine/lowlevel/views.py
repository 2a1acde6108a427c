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
def _borrowed(typingctx, source, start, shape):  # type: ignore[no-untyped-def]
    """A C-order view of `shape` (a tuple of integers) from value `start` of a C-order array's
    values, row after row: no bounds check."""
    if not (isinstance(source, types.Array) and source.layout == "C" and isinstance(shape, types.BaseTuple)
            and all(isinstance(size, types.Integer) for size in shape)):
        return None
    view_type = types.Array(source.dtype, len(shape), "C")

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        source_value, start_value, shape_value = args
        array = make_array(source)(context, builder, source_value)
        view = make_array(view_type)(context, builder)
        start_at = context.cast(builder, start_value, signature.args[1], types.intp)
        sizes = [context.cast(builder, size, kind, types.intp)
                 for size, kind in zip(cgutils.unpack_tuple(builder, shape_value), shape, strict=True)]
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(source.dtype)))
        strides = [itemsize]  # C order: the last axis is contiguous, each axis before steps over the ones after
        for size in reversed(sizes[1:]):
            strides.insert(0, builder.mul(size, strides[0]))
        populate_array(view, data=cgutils.gep_inbounds(builder, array.data, start_at), shape=sizes, strides=strides,
                       itemsize=itemsize, meminfo=None, parent=None)
        return impl_ret_untracked(context, builder, view_type, view._getvalue())

    return view_type(source, start, shape), codegen


@njit(cache=True, nogil=True, error_model="numpy")
def matrix_at(flat: np.ndarray, start: int, rows: int, columns: int) -> np.ndarray:
    """flat[start : start + rows·columns] as a (rows, columns) matrix; IndexError if it does not fit."""
    if start < 0 or rows < 0 or columns < 0 or start + rows * columns > flat.shape[0]:
        raise IndexError("the matrix does not fit in its buffer")
    return _borrowed(flat, start, (rows, columns))  # type: ignore[call-arg]


@njit(cache=True, nogil=True, error_model="numpy")
def values_of(matrix: np.ndarray) -> np.ndarray:
    """A contiguous matrix's values, row after row, as one vector."""
    return _borrowed(matrix, 0, (matrix.shape[0] * matrix.shape[1],))  # type: ignore[call-arg]


@njit(cache=True, nogil=True, error_model="numpy")
def vector_at(flat: np.ndarray, start: int, length: int) -> np.ndarray:
    """flat[start : start + length]; IndexError if it does not fit."""
    if start < 0 or length < 0 or start + length > flat.shape[0]:
        raise IndexError("the vector does not fit in its buffer")
    return _borrowed(flat, start, (length,))  # type: ignore[call-arg]


@njit(cache=True, nogil=True, error_model="numpy")
def row_of(matrix: np.ndarray, row: int) -> np.ndarray:
    """matrix[row] of a contiguous matrix."""
    return vector_at(values_of(matrix), row * matrix.shape[1], matrix.shape[1])


@njit(cache=True, nogil=True, error_model="numpy")
def first_rows(matrix: np.ndarray, rows: int) -> np.ndarray:
    """matrix[:rows] of a contiguous matrix."""
    return matrix_at(values_of(matrix), 0, rows, matrix.shape[1])
