"""Background jobs: the record of each, its pages, and how one runs as its user."""
