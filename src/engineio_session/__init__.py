"""engineio-session: express-session's signed cookie and stored sessions, for Python servers.

>>> from engineio_session import sign, get_session_id
>>> get_session_id("connect.sid=s%3A" + sign("sid", "secret"), secrets="secret")
'sid'
"""

from ._version import __version__
from .cookies import parse_cookie, serialize_cookie
from .errors import SessionError
from .ids import generate_session_id, get_session_id
from .signature import Signer, sign, unsign

__all__ = [
    "SessionError",
    "Signer",
    "__version__",
    "generate_session_id",
    "get_session_id",
    "parse_cookie",
    "serialize_cookie",
    "sign",
    "unsign",
]
