"""Serve the demo: start the dev server, wait until it answers, seed (printing the logins),
then keep serving until interrupted."""

import os
import subprocess
import sys
import time
import urllib.request

port = os.environ.get("PORT", "8000")
env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.demo"}
manage = [sys.executable, "manage.py"]
server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env)
sweeper: subprocess.Popen[bytes] | None = None
try:
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                sys.exit(f"the server stopped (exit {server.returncode})")
            time.sleep(0.5)
    subprocess.run([*manage, "seed_demo"], env=env, check=True)
    # No Celery beat in the demo: the staff dashboard's roll-ups are built once, here.
    subprocess.run([*manage, "dashboard_refresh"], env=env, check=True)
    # No Celery beat in the demo: re-drive parked webhooks (a refund that overtook its payment)
    # the way beat's sweeper does in production, inline since tasks are eager here.
    sweeper = subprocess.Popen([*manage, "webhooks_sweep", "--inline", "--interval", "30"], env=env)
    print(f"\nServing http://127.0.0.1:{port}/ — Ctrl-C to stop.", flush=True)
    server.wait()
except KeyboardInterrupt:
    pass
finally:
    for process in (sweeper, server):
        if process is not None:
            process.terminate()
            process.wait()
