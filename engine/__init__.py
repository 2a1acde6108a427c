"""The Backprop Lab engine: a fully connected network trained by backpropagation, in NumPy.

Pure NumPy and the standard library — no web code — so it runs in a notebook too::

    from backprop_lab.engine.config import Config
    from backprop_lab.engine.trainer import Trainer

    trainer = Trainer(Config(dataset="xor", hidden_layers=(8, 8)))
    trace = trainer.traced_step()      # every activation, delta, gradient and update of one step
    trainer.step(500)

Read `docs/architecture.md` for the path of one training step through these modules.
"""
