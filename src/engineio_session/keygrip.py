"""Signatures as Node's ``keygrip@1.1.0`` makes them, for cookie-session's ``.sig`` cookie.

A signature is HMAC-SHA1 of the data (UTF-8), in base64 with ``/`` made ``_``, ``+`` made
``-`` and the ``=`` removed: always 27 characters. A list of keys signs with the first and
verifies with each in turn (``index``), so a key can be rotated::

    >>> keygrip_sign("session=e30=", "key")
    '9KxqMI9bh9Att_8U4DMUPbnrB2E'
    >>> grip = Keygrip(["new", "key"])
    >>> grip.index("session=e30=", "9KxqMI9bh9Att_8U4DMUPbnrB2E"), grip.index("session=e30=", "x")
    (1, -1)

A ``str`` key or data is UTF-8 encoded as Node encodes a JS string (a lone surrogate becomes
U+FFFD); a ``bytes`` key is used as it is, like a Node ``Buffer``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from hmac import compare_digest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from ._js import utf8

__all__ = ["Key", "Keygrip", "keygrip_sign"]

Key = str | bytes

SIG_LENGTH = 27  # 20 digest bytes in unpadded base64
_SIG_ALPHABET = re.compile(r"[A-Za-z0-9_-]{27}")


def _key_bytes(key: object) -> bytes:
    if isinstance(key, str):
        return utf8(key)  # crypto.createHmac(alg, string): UTF-8, a lone surrogate as U+FFFD
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"a key is a str or bytes, not {type(key).__name__}")


def _keyed(key: bytes) -> crypto_hmac.HMAC:
    # a keyed state, copied for each signature: cheaper than keying anew (as signature.py)
    return crypto_hmac.HMAC(key, hashes.SHA1())


def _digest(keyed: crypto_hmac.HMAC, data: bytes) -> bytes:
    state = keyed.copy()
    state.update(data)
    return base64.urlsafe_b64encode(state.finalize()).rstrip(b"=")


def keygrip_sign(data: str, key: Key) -> str:
    """``new Keygrip([key]).sign(data)``."""
    return _digest(_keyed(_key_bytes(key)), utf8(data)).decode("ascii")


class Keygrip:
    """keygrip's ``sign`` (with the first key) and ``index`` (the first key that matches).

    Keys are newest first; one ``str`` or ``bytes`` is a list of one. No keys is a
    ``ValueError``, as ``new Keygrip([])`` throws.
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Key | Iterable[Key]) -> None:
        if isinstance(keys, (str, bytes)):
            keys = [keys]
        self._keys = tuple(_keyed(_key_bytes(key)) for key in keys)
        if not self._keys:
            raise ValueError("Keys must be provided.")

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"Keygrip(<{len(self._keys)} keys>)"

    def sign(self, data: str) -> str:
        """The signature of ``data`` with the first key."""
        return _digest(self._keys[0], utf8(data)).decode("ascii")

    def index(self, data: str, digest: str) -> int:
        """The index of the first key whose signature of ``data`` is ``digest``, else -1.

        keygrip compares with tsscmp: constant time, and the strings must be equal exactly.
        Its signature is always 27 base64url characters, so anything else matches no key and
        costs no HMAC.
        """
        if len(digest) != SIG_LENGTH or not _SIG_ALPHABET.fullmatch(digest):
            return -1
        given = digest.encode("ascii")
        message = utf8(data)
        for index, key in enumerate(self._keys):
            if compare_digest(_digest(key, message), given):
                return index
        return -1
