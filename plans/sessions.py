"""Session limits: an idle time-out and an absolute one, counted on the server."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.utils.timezone import now
from django.utils.translation import gettext as _

STARTED = "session_started_at"  # epoch seconds of the login
LAST_SEEN = "session_last_seen_at"  # epoch seconds of the last request, to the minute
# A request within this long of the recorded one does not write the session again: the idle
# limit is then exact to a minute, and reading a page costs no session write.
SEEN_RESOLUTION = 60


class Ended(Enum):
    IDLE = "idle"
    ABSOLUTE = "absolute"


def session_end(
    *, now: float, started: float, last_seen: float, idle: dt.timedelta, absolute: dt.timedelta
) -> Ended | None:
    """Why a session must end at `now` (epoch seconds), or None while it may go on.

    The idle limit counts from the last request the session recorded, the absolute limit from
    the login, so a busy user still logs in again once a working day.
    """
    if now - started >= absolute.total_seconds():
        return Ended.ABSOLUTE
    if now - last_seen >= idle.total_seconds():
        return Ended.IDLE
    return None


@receiver(user_logged_in, dispatch_uid="plans.sessions.start")
def _start(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[STARTED] = request.session[LAST_SEEN] = int(now().timestamp())


def judged_by_token(request) -> bool:
    """An API request with a bearer token: the token alone decides, never a session beside it
    (plans/api.py), so the session is neither read nor extended."""
    return request.headers.get("Authorization", "")[:7].lower() == "bearer "


class SessionTimeoutMiddleware:
    """Log out a session past either limit and send it to the login page with a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not judged_by_token(request) and request.user.is_authenticated:
            session = request.session
            moment = int(now().timestamp())
            started = session.setdefault(STARTED, moment)  # a session from before this check
            last_seen = session.get(LAST_SEEN, moment)
            ended = session_end(
                now=moment,
                started=started,
                last_seen=last_seen,
                idle=settings.SESSION_IDLE_TIMEOUT,
                absolute=settings.SESSION_ABSOLUTE_TIMEOUT,
            )
            if ended is not None:
                logout(request)
                if ended is Ended.IDLE:
                    minutes = int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60)
                    text = _("已 %(minutes)d 分钟未操作,为安全起见已自动退出,请重新登录。") % {
                        "minutes": minutes
                    }
                else:
                    text = _("登录已超过最长时限,为安全起见已自动退出,请重新登录。")
                messages.info(request, text)
                return redirect_to_login(request.get_full_path())
            if moment - last_seen >= SEEN_RESOLUTION or LAST_SEEN not in session:
                session[LAST_SEEN] = moment
        return self.get_response(request)
