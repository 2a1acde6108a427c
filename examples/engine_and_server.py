"""The engine alone, in this process, and a server session from the same config: the same
weights to the last bit after the same steps, the same metrics and the same gradients.

    backprop-lab &
    python examples/engine_and_server.py

The engine (`backprop_lab.engine`) needs only NumPy and numba: a notebook can train with it and
no server at all. The server runs these very kernels, so its numbers are the engine's
(docs/notebook.md, "The engine alone").
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from backprop_lab.client import Client, flat
from backprop_lab.engine.config import Config
from backprop_lab.engine.evaluation import evaluate_split
from backprop_lab.engine.gradcheck import Objective
from backprop_lab.engine.trainer import Trainer

CONFIG = {"dataset": "circle", "noise": 0.05, "hidden_layers": [4, 3], "optimizer": "momentum",
          "learning_rate": 0.05, "regularization": "l2", "regularization_rate": 0.001, "seed": 11}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=os.environ.get("BASE", "http://127.0.0.1:8000"))
    parser.add_argument("--steps", type=int, default=1_000)
    args = parser.parse_args()

    # The engine alone: a Config (every field optional, the page's defaults otherwise) and a Trainer.
    trainer = Trainer(Config().replace(**CONFIG))
    trainer.step(args.steps)  # one compiled call; the same bits however the steps are split
    train, test = trainer.dataset.train, trainer.dataset.test
    metrics = evaluate_split(trainer.network, trainer.loss, test.inputs, test.targets).metrics  # whole split
    objective = Objective(trainer.network, trainer.loss, train.inputs, train.targets,
                          trainer.config.regularization, trainer.config.regularization_rate)
    _, _, gradient = objective.gradient()  # ∂objective/∂θ (P,), every weight then every bias

    # The same config on the server, trained in three requests.
    with Client(args.base) as lab:
        lab.wait_until_ready()
        session = lab.sessions.create(CONFIG)
        session = lab.sessions.train(session.id, args.steps, chunk=args.steps // 3 + 1)
        parameters = flat(lab.sessions.params(session.id))  # the engine's flat layout θ (P,)
        gradients = flat(lab.sessions.gradients(session.id).layers)
        lab.sessions.delete(session.id)

    print(f"{args.steps} steps, {parameters.size} parameters")
    print("weights bit-identical:", np.array_equal(parameters, trainer.network.parameters))
    print("test loss identical:", metrics["loss"] == session.metrics["test_loss"], metrics["loss"])
    print("gradients bit-identical:", np.array_equal(gradients, gradient))


if __name__ == "__main__":
    main()
