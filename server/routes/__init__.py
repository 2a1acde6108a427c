"""One router per resource: pages, meta (health, options), sessions, datasets, the stream."""
