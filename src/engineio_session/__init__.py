"""engineio-session: express-session's signed cookie and stored sessions, for Python servers.

>>> from engineio_session import sign, get_session_id
>>> get_session_id("connect.sid=s%3A" + sign("sid", "secret"), secrets="secret")
'sid'
"""

from ._version import __version__
from .cookie_session import CookieRead, CookieSession
from .cookies import parse_cookie, serialize_cookie
from .engineio import ENVIRON_SESSION, AsyncSessionHandle, SessionHandle, attach
from .errors import CorruptSessionError, SessionError, StoreError
from .ids import generate_session_id, get_session_id
from .live import AsyncLiveSession, LiveSession, SessionGoneError
from .session import Cookie, Session
from .signature import Signer, sign, unsign

__all__ = [
    "ENVIRON_SESSION",
    "AsyncLiveSession",
    "AsyncSessionHandle",
    "Cookie",
    "CookieRead",
    "CookieSession",
    "CorruptSessionError",
    "LiveSession",
    "Session",
    "SessionError",
    "SessionGoneError",
    "SessionHandle",
    "Signer",
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
