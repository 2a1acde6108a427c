"""Alembic migrations of the saved-runs database (docs/architecture.md, "Saved runs").

Shipped inside the package and run by `backprop_lab.server.saved.run_store.RunStore.open` at every start, so a
database made by an older version is brought up to date and a newer one is refused. Add a
schema change as a new revision in `versions/`, never by editing an old one.
"""
