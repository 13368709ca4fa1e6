"""gunicorn settings (`gunicorn -c config/gunicorn.py`, run by `make serve`).

Read from the environment, like config/settings.py; a bad number stops the start with its name.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {text!r}") from None
    if value <= 0:
        raise SystemExit(f"{name} must be positive, not {value}")
    return value


wsgi_app = "config.wsgi:application"
# Behind nginx on the same host: 127.0.0.1:8000. Alone on an intranet: 0.0.0.0:8000.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# gunicorn's rule of thumb; the pages are database-bound, so more workers than cores pay off.
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
# An Excel report of a province or a 10 MB evidence upload over a slow line takes a while;
# nginx's proxy_read_timeout should be at least this.
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then, so a slow leak never builds up over months of uptime.
max_requests = 2000
max_requests_jitter = 200
# Logs go to standard output/error, for systemd's journal (or a file: GUNICORN_ACCESS_LOG).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The user's address as nginx saw it, then the request, status, size and time in milliseconds.
access_log_format = '%({x-forwarded-for}i)s %(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# X-Forwarded-Proto is believed from these addresses only (nginx on this host by default).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
