"""gunicorn reads this file from the project root (``make run``, ``make bench``, production)."""


def post_worker_init(worker) -> None:
    """Each worker warms up before its first request, so that no visitor waits for it."""
    from app import warm_up

    warm_up(worker.wsgi)
