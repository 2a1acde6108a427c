"""Long work as jobs (docs/api.md, "Jobs"): sweeps, range tests and long trainings that run off
the request, report their progress, can be cancelled, and keep their result for a while."""
