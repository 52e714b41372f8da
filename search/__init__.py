"""Search: the index of the catalogue, its tuning by editors, and what citizens search for."""

from search import models  # noqa: F401  (the tables, for the metadata and migrations)
