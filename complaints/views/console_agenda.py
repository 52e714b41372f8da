"""Routes: see complaints.views."""

from complaints.views import bp, console  # noqa: F401
