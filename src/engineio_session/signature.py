"""Cookie signatures, as Node's ``cookie-signature@1.0.7`` and express-session's rotation.

A signed value is ``value + "." + base64(HMAC-SHA256(secret, value))`` with the ``=``
padding stripped. express-session accepts a list of secrets: it signs with the first and
verifies with each in turn, so a secret can be rotated without logging everybody out::

    >>> signed = sign("abc", "new secret")
    >>> signed
    'abc.oHSxOyPiHkOvUE716vx+MbE4bkH5ZA0SEsUACVtA2DE'
    >>> unsign(signed, ["new secret", "old secret"])
    'abc'
    >>> unsign(signed[:-1], "new secret") is None
    True

A ``str`` secret or value is UTF-8 encoded as Node encodes a JS string (a lone surrogate
becomes U+FFFD); a ``bytes`` secret is used as it is, like a Node ``Buffer``.
"""

from __future__ import annotations

from binascii import a2b_base64, b2a_base64
from collections.abc import Iterable
from functools import lru_cache
from hmac import compare_digest as _compare_digest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from ._accel import speedups
from ._js import utf8

__all__ = ["Secret", "SecretKey", "Secrets", "Signer", "sign", "unsign"]

Secret = str | bytes
# cookie-signature's base64 of a 32-byte digest, '=' stripped, is always 43 characters
_MAC_LENGTH = 43
# base64 characters whose two low bits are zero: the only ones that end a canonical 43
_CANONICAL_LAST = frozenset("AEIMQUYcgkosw048")


class SecretKey:
    """One secret with its HMAC-SHA256 key schedule computed once.

    Copying a keyed HMAC state is cheaper than keying a new one on every verify; see the
    README's benchmark section for the measurement behind ``cryptography`` here.
    """

    __slots__ = ("keyed", "state")

    def __init__(self, secret: Secret) -> None:
        if isinstance(secret, str):
            key = utf8(secret)
        elif isinstance(secret, bytes):
            key = secret
        else:
            raise TypeError("Secret key must be provided.")
        self.state = crypto_hmac.HMAC(key, hashes.SHA256())
        #: the same key schedule for the C accelerator (engineio_session._accel); b"" where it
        #: is not built
        self.keyed = speedups.hmac_sha256_key(key) if speedups is not None else b""

    def mac(self, value: bytes) -> bytes:
        """The 43 ASCII bytes that follow the ``.`` in a value signed with this secret."""
        state = self.state.copy()
        state.update(value)
        return b2a_base64(state.finalize(), newline=False)[:_MAC_LENGTH]


class Signer:
    """An ordered list of secrets: sign with the first, accept any (express-session's rotation).

    >>> signer = Signer(["current", "previous"])
    >>> signer.unsign(sign("id", "previous"))
    'id'
    """

    __slots__ = ("_keys", "_states", "keyed")

    def __init__(self, secrets: Secret | Iterable[Secret]) -> None:
        if isinstance(secrets, (str, bytes)):
            secrets = [secrets]
        self._keys = tuple(SecretKey(secret) for secret in secrets)
        if not self._keys:
            raise ValueError("secret option array must contain one or more strings")
        self._states = tuple(key.state for key in self._keys)
        #: each secret's key schedule for the C accelerator, in order (see SecretKey.keyed)
        self.keyed = tuple(key.keyed for key in self._keys)

    def sign(self, value: str) -> str:
        """``cookie-signature.sign(value, secrets[0])``."""
        if not isinstance(value, str):
            raise TypeError("Cookie value must be provided as a string.")
        return value + "." + self._keys[0].mac(utf8(value)).decode("ascii")

    def unsign(self, signed: str) -> str | None:
        """The value, if any secret's signature matches; ``None`` if none does."""
        if not isinstance(signed, str):
            raise TypeError("Signed cookie string must be provided.")
        dot = signed.rfind(".")
        # With no '.', cookie-signature compares against a string that has one: never equal.
        # The MAC it computes is 43 ASCII characters, so any other tail cannot match either.
        if dot == -1 or len(signed) - dot != _MAC_LENGTH + 1 or signed[-1] not in _CANONICAL_LAST:
            return None
        # Compare raw digests: decode the given MAC once instead of encoding ours per secret.
        # Only the spelling cookie-signature writes may pass: strict mode refuses anything
        # outside the base64 alphabet (a non-ASCII str raises ValueError), and the 43rd
        # character holds 4 bits and 2 zero bits (checked above).
        try:
            given = a2b_base64(signed[dot + 1 :] + "=", strict_mode=True)
        except ValueError:
            return None
        value = signed[:dot]
        try:
            message = value.encode()
        except UnicodeEncodeError:
            message = utf8(value)
        for state in self._states:
            attempt = state.copy()
            attempt.update(message)
            if _compare_digest(attempt.finalize(), given):
                return value
        return None


Secrets = Secret | Iterable[Secret] | Signer


@lru_cache(maxsize=64)
def _signer_for(secrets: Secret | tuple[Secret, ...]) -> Signer:
    return Signer(secrets)


def as_signer(secrets: Secrets) -> Signer:
    """A :class:`Signer` for ``secrets``; the key schedule of a secret seen before is reused."""
    if isinstance(secrets, Signer):
        return secrets
    if secrets is None:
        raise TypeError("Secret key must be provided.")
    if isinstance(secrets, (str, bytes)):
        return _signer_for(secrets)
    return _signer_for(tuple(secrets))


def sign(value: str, secret: Secrets) -> str:
    """Sign ``value`` as ``cookie-signature.sign(value, secret)``; a list signs with its first."""
    return as_signer(secret).sign(value)


def unsign(signed: str, secret_or_secrets: Secrets) -> str | None:
    """Verify ``signed`` against one secret or each of a list in turn; ``None`` = rejected.

    The comparison is constant-time. express-session's ``unsigncookie`` stops at the first
    secret that matches.
    """
    return as_signer(secret_or_secrets).unsign(signed)
