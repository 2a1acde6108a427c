"""The live session: a trainer, its play loop and controls, what it streams and remembers, the
sockets it may hold, and the manager that creates, finds and ends sessions."""
