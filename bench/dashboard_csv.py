"""Child process of bench/dashboard.py: stream one CSV export to /dev/null, report in JSON.

    DATABASE_URL=<scratch database as the app role> python bench/dashboard_csv.py URL USERNAME

Logs in as USERNAME (Django's test `Client`, in-process, as the pages are measured), requests
URL, consumes the response's iterator chunk by chunk into /dev/null and prints one JSON line:
status, rows (lines after the header), seconds, whether the response streamed, and this
process's peak resident set (VmHWM, see `_peak_mb`) before the request and at the end. A
process of its own, so that peak belongs to this export alone.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    """This program's peak resident set: VmHWM, the high-water mark of the memory it has had
    since it started. Not `ru_maxrss` alone: Linux carries that across fork and exec, so a
    child started by the (much larger) bench process would read the bench's peak."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) / 1024


def main() -> int:
    url, username = sys.argv[1], sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from testsupport.staff import staff_login

    client = Client()
    user = get_user_model().objects.get(username=username)
    if user.is_staff:
        staff_login(client, user)  # password and second factor, as staff pages ask
    else:
        client.force_login(user)
    before = _peak_mb()
    newlines = 0
    started = time.perf_counter()
    response: Any = client.get(url)
    streaming = bool(getattr(response, "streaming", False))
    chunks = response.streaming_content if streaming else [response.content]
    with open(os.devnull, "wb") as sink:
        for chunk in chunks:
            data = chunk if isinstance(chunk, bytes) else str(chunk).encode()
            newlines += data.count(b"\n")
            sink.write(data)
    seconds = time.perf_counter() - started
    report = {
        "status": response.status_code,
        "rows": max(0, newlines - 1),
        "seconds": seconds,
        "streaming": streaming,
        "rss_before_mb": before,
        "peak_rss_mb": _peak_mb(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
