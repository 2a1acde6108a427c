"""Several workers behind a proxy (docs/deploy.md): what lets `backprop-lab` run as one of many.

The single process stays the default and needs none of this: with no `--worker` and no `--redis`
nothing here is imported by the running server. A worker is a `backprop-lab` process started
with a name (`--worker w1`): every session id it makes starts with that name
(`manager.new_id`), so the proxy routes `…/sessions/{id}…` and `/ws/sessions/{id}` to the worker
that holds the session without asking anyone. What the workers share goes through Redis
(`--redis redis://…`, `link.ClusterLink`); saved runs go to one database (`--db postgresql://…`).
"""
