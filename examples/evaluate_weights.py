"""Train on the server, then evaluate the trained network yourself: fetch its weights and its data
as NumPy arrays and run the forward pass in a few lines of NumPy. The test loss and accuracy you
compute agree with the server's to the last digits (the sums run in a different order).

    backprop-lab &
    python examples/evaluate_weights.py

docs/notebook.md walks through the same steps.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from backprop_lab.client import Client, Layer

CONFIG = {"dataset": "moons", "noise": 0.1, "hidden_layers": [6, 4], "activation": "tanh",
          "optimizer": "adam", "learning_rate": 0.02, "seed": 4}


def forward(layers: list[Layer], inputs: np.ndarray) -> np.ndarray:
    """The network's class probabilities (n, K): tanh hidden layers, a softmax output
    (docs/engine.md). Each layer's weights are inputs × outputs, so z = a @ W + b."""
    activations = inputs  # (n, n_inputs)
    for layer in layers[:-1]:
        activations = np.tanh(activations @ layer.weights + layer.biases)  # (n, n_out)
    logits = activations @ layers[-1].weights + layers[-1].biases  # (n, K)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=os.environ.get("BASE", "http://127.0.0.1:8000"))
    parser.add_argument("--steps", type=int, default=2_000)
    args = parser.parse_args()

    with Client(args.base) as lab:
        lab.wait_until_ready()
        session = lab.sessions.create(CONFIG)
        session = lab.sessions.train(session.id, args.steps)  # in requests of at most 5,000 steps
        layers = lab.sessions.params(session.id)  # [Layer(weights (n_in, n_out), biases (n_out,)), …]
        data = lab.sessions.dataset(session.id)  # both splits: inputs (n, n_inputs), one-hot targets (n, K)
        lab.sessions.delete(session.id)

    probabilities = forward(layers, data.test.inputs)
    loss = float(np.mean(-np.sum(data.test.targets * np.log(probabilities), axis=1)))  # mean cross-entropy
    accuracy = float(np.mean(probabilities.argmax(axis=1) == data.test.labels))
    print(f"trained {session.step} steps: {[layer.weights.shape for layer in layers]} weight matrices")
    print(f"test loss      server {session.metrics['test_loss']:.15f}  numpy {loss:.15f}")
    print(f"test accuracy  server {session.metrics['test_accuracy']:.6f}  numpy {accuracy:.6f}")
    print(f"difference {abs(loss - session.metrics['test_loss']):.1e}")


if __name__ == "__main__":
    main()
