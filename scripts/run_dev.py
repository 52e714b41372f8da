#!/usr/bin/env python3
"""``make run``: the portal, the local FranceConnect and the search worker, side by side, stopped together.

The portal is served by gunicorn with gunicorn.conf.py, the settings of
production (threaded workers, no access log), on $PORT (default 5000); the
local FranceConnect by gunicorn too, in 1 process that is never recycled
(its codes and tokens live in memory), on $LOCAL_FC_PORT (default 5001);
``flask search worker`` applies publications to the search index and runs the
periodic tasks (scheduled publications...), as one worker per host does in
production. Ctrl+C stops all three.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"


def demo_agent_instructions(public_url: str) -> str:
    """How to sign in as the demo officer `make data` created (flask agents demo)."""
    sys.path.insert(0, str(ROOT))
    from agents.cli import (
        DEMO_EDITOR_EMAIL,
        DEMO_EDITOR_PASSWORD,
        DEMO_EDITOR_TOTP_SECRET,
        DEMO_EMAIL,
        DEMO_PASSWORD,
        DEMO_TOTP_SECRET,
    )
    from agents.passwords import provisioning_uri

    return (f"Espace agents : {public_url}/agents/connexion — officier (et administrateur) {DEMO_EMAIL} / "
            f"{DEMO_PASSWORD} ; rédactrice {DEMO_EDITOR_EMAIL} / {DEMO_EDITOR_PASSWORD}\n"
            f"  Codes à 6 chiffres : ajoutez {provisioning_uri(DEMO_TOTP_SECRET, DEMO_EMAIL)} et "
            f"{provisioning_uri(DEMO_EDITOR_TOTP_SECRET, DEMO_EDITOR_EMAIL)} à une application "
            "d'authentification, ou lancez `PORTAL_ENV=development .venv/bin/flask --app app agents demo`.")


def main() -> int:
    port = os.environ.get("PORT", "5000")
    fc_port = os.environ.get("LOCAL_FC_PORT", "5001")
    env = dict(os.environ, PORT=port, LOCAL_FC_PORT=fc_port,
               PUBLIC_URL=os.environ.get("PUBLIC_URL", f"http://127.0.0.1:{port}"))
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(CONFIG)]
    processes = [
        subprocess.Popen([*gunicorn, "--workers", "1", "--threads", "4", "--max-requests", "0",
                          "--bind", f"127.0.0.1:{fc_port}", "local_franceconnect:create_app()"], cwd=ROOT, env=env),
        subprocess.Popen([*gunicorn, "--bind", f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT, env=env),
        subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "search", "worker"], cwd=ROOT, env=env),
    ]
    print(f"Portail citoyen : {env['PUBLIC_URL']}  —  FranceConnect local : http://127.0.0.1:{fc_port}/api/v2",
          flush=True)
    print(demo_agent_instructions(env["PUBLIC_URL"]), flush=True)

    def stop(*_):
        for process in processes:
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        # If one stops, stop the others: half a development setup is worse than none.
        while all(p.poll() is None for p in processes):
            try:
                processes[0].wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
    finally:
        stop()
        for process in processes:
            process.wait(timeout=10)
    return max(p.returncode or 0 for p in processes)


if __name__ == "__main__":
    sys.exit(main())
