"""Where and when work runs: the training threads, the cadence of frames, the fan-out to each
client's queue, and work that stops when its client leaves."""
