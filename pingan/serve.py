"""Serve Pingan: gunicorn for the web, plus one background worker (deadlines, outbox).

``python -m pingan.serve`` is what ``make run`` calls; in production run gunicorn and
``manage.py worker`` under your process supervisor instead, as many of each as you need.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument("--workers", default="3")
    args = parser.parse_args()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="pingan.settings")
    worker = subprocess.Popen([sys.executable, "manage.py", "worker"], env=env)
    print(f"Pingan: http://{args.host}:{args.port}/  (Ctrl-C stops)", flush=True)
    web = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "pingan.wsgi:application",
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
            "--preload",  # load the app (and the service catalogue) once, then fork
        ],
        env=env,
    )

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # A supervisor's SIGTERM stops both children, like Ctrl-C does.
    signal.signal(signal.SIGTERM, stop)
    try:
        return web.wait()
    except KeyboardInterrupt:
        web.send_signal(signal.SIGTERM)
        return web.wait()
    finally:
        worker.terminate()
        worker.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
