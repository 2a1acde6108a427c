"""The compiled maths of the engine: every number a training step, a probe, an evaluation or a
gradient check produces is computed by the functions in this package.

They are numba `njit` functions (`nogil=True`, so two sessions train on two cores at once;
`cache=True`, so a process compiles them once and later processes load the machine code; float64;
no fastmath, so no sum is reordered and every path gives the same bits; `error_model="numpy"`, so
a division by zero gives inf or NaN as IEEE 754 says — the divergence check catches them — instead
of a Python exception tested at every division, which would keep loops out of the vector units).
The layer-level functions are `inline="always"`: a step of the default network is a few thousand
instructions, and a call per layer and per formula was a tenth of it. The scalar formulas (tanh,
f(z), f′(z)) and the views are not: LLVM inlines them just the same, and numba inlining them
too, at every one of their call sites, took half the compile time (a cold start ~90 → ~45 s).
They are written as
explicit loops that read like the maths, one block per formula, e.g. for a dense layer

    z_sj = Σ_i a_si·w_ij + b_j          for every row s of the batch

with the innermost loop over contiguous outputs j (it vectorises without reordering any sum).
Products of large layers go to BLAS instead (`layers.BLAS_MIN_WORK`), the same choice on every
path, so traced, untraced and phase-by-phase training stay bit-identical.

Names travel as small integer codes (the registries in `backprop_lab.engine.activations`, `backprop_lab.engine.losses`,
`backprop_lab.engine.optimizers` map the API's names to them), and a network as three arrays:

- `layout` (L, 5) int64: per weighted layer n_in, n_out, the offset of its weights and of its
  biases in the flat parameter vector θ, and the offset of its units among all layers' units;
- `codes` (5,) int64 and `hyper` (3,) float64: the choices and rates of `backprop_lab.engine.kernels.codes`;
- per-layer buffers z, a and δ, each a flat float64 vector holding every layer's (rows, n_out)
  block back to back (`backprop_lab.engine.workspace.Workspace` makes them and their views).

Modules, in the order a step uses them: `views` (a layer's blocks inside the flat buffers),
`tanh` (the default activation, as arithmetic), `activations`, `layers` (dense forward, gradients, the
chain rule through one layer), `losses` (softmax, per-sample losses, output deltas),
`regularization`, `optimizers`, `passes` (whole forward and backward passes), `clock` (the time,
read inside a loop), `training` (steps and epochs), `metrics` (whole-split evaluation),
`gradcheck` (central differences).
"""
