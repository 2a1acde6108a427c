"""The Backprop Lab engine: a fully connected network trained by backpropagation.

Start with `reference.py`: one training step (forward, loss, backward, update) in plain NumPy, in
the notation of docs/engine.md. The engine computes the same numbers with kernels numba compiles
(`kernels/`, built on the low-level machinery in `lowlevel/`); the modules here around them hold
the data sets, the configuration, the network's parameters and the trainer. It needs NumPy,
numba and the standard library — no web code — so it runs in a notebook too::

    from backprop_lab.engine.config import Config
    from backprop_lab.engine.trainer import Trainer

    trainer = Trainer(Config(dataset="xor", hidden_layers=(8, 8)))
    trace = trainer.traced_step()      # every activation, delta, gradient and update of one step
    trainer.step(500)

Read `docs/architecture.md` for the path of one training step through these modules.
"""
