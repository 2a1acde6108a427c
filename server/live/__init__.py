"""The live session: a trainer, its play loop and controls, what it streams and remembers, and the
manager that creates, finds and ends sessions."""
