#!/usr/bin/env python3
"""Exit 0 if the PostgreSQL URL given answers within 3 seconds."""

import sys

import psycopg

url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://", 1)
try:
    with psycopg.connect(url, connect_timeout=3) as conn:
        conn.execute("SELECT 1")
except psycopg.Error:
    sys.exit(1)
