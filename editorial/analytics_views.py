"""The editors' search analytics pages (placeholder: being written)."""
