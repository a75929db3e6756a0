"""engineio-session: express-session's signed cookie and stored sessions, for Python servers.

>>> from engineio_session import sign, get_session_id
>>> get_session_id("connect.sid=s%3A" + sign("sid", "secret"), secrets="secret")
'sid'
"""

from ._version import __version__
from .attach import attach
from .changes import Changes
from .cookie_session import CookieRead, CookieSession
from .cookies import parse_cookie, serialize_cookie
from .core import ENVIRON_SESSION
from .engineio import AsyncSessionHandle, SessionHandle
from .errors import (
    CorruptSessionError,
    KrupteinError,
    NotificationsUnavailableError,
    SessionError,
    SessionGoneError,
    StoreError,
)
from .ids import generate_session_id, get_session_id
from .live import AsyncLiveSession, LiveSession
from .session import Cookie, Session
from .signature import Signer, sign, unsign
from .socketio import AsyncSocketIOSessionHandle, SocketIOSessionHandle

__all__ = [
    "ENVIRON_SESSION",
    "AsyncLiveSession",
    "AsyncSessionHandle",
    "AsyncSocketIOSessionHandle",
    "Changes",
    "Cookie",
    "CookieRead",
    "CookieSession",
    "CorruptSessionError",
    "KrupteinError",
    "LiveSession",
    "NotificationsUnavailableError",
    "Session",
    "SessionError",
    "SessionGoneError",
    "SessionHandle",
    "Signer",
    "SocketIOSessionHandle",
    "StoreError",
    "__version__",
    "attach",
    "generate_session_id",
    "get_session_id",
    "parse_cookie",
    "serialize_cookie",
    "sign",
    "unsign",
]
