"""``python -m pingan.serve`` (what ``make run`` starts): gunicorn serves, SIGTERM stops the
web server and the worker together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_and_stops_cleanly(tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        PINGAN_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PINGAN_DEMO="1",
        PINGAN_TESTING="",
        PINGAN_LOG_LEVEL="WARNING",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=REPO, env=env, check=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "pingan.serve", "--port", str(port), "--workers", "1"],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    body = response.read().decode()
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert "平安警务平台" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/pingan/site.css", timeout=5) as css:
            assert css.status == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) is not None
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    # Nothing of the session (gunicorn workers, the background worker) outlives it.
    time.sleep(1)
    survivors = subprocess.run(["pgrep", "-s", str(server.pid)], capture_output=True, text=True, check=False)
    assert survivors.stdout.strip() == ""
