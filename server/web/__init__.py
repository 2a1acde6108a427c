"""HTTP concerns: error answers, the Host and Origin guard, the headers a browser enforces, and
size and rate limits."""
