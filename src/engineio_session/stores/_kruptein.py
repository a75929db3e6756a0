"""kruptein 2.2.3's AES-256-GCM envelope, byte-compatible with Node both ways (no I/O).

session-file-store's ``secret`` option (and connect-mongo's ``crypto`` option) encrypt with
kruptein, configured as ``{algorithm: "aes-256-gcm", hashing: "sha512", use_scrypt: true}``
and the default ``encodeas: "binary"``. ``encrypt`` writes what ``kruptein.set`` writes and
``decrypt`` reads it back::

    >>> envelope = encrypt("keyboard cat", '{"cookie":{}}')
    >>> list(jsjson.loads(envelope))
    ['hmac', 'ct', 'iv', 'salt', 'aad', 'at']
    >>> decrypt("keyboard cat", envelope)
    '{"cookie":{}}'
    >>> decrypt("wrong", envelope)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    engineio_session.errors.KrupteinError: Encrypted session was tampered with! ...

What ``kruptein.set(secret, plaintext)`` does (lib/kruptein.js), step by step:

1. ``key = scryptSync(secret, salt, 32)`` with 128 random salt bytes and Node's scrypt
   defaults N=16384, r=8, p=1 (``_derive_key``);
2. a random 12-byte IV (``_iv(_iv_size)``, 12 for GCM in ``_matrix``);
3. ``plaintext = Buffer.from(JSON.stringify(plaintext))``: a string is JSON-encoded *again*,
   so session-file-store's session JSON is stored as a JSON string literal;
4. ``aad = HMAC-SHA512(128 random bytes, plaintext)``, as a latin1 ("binary") string;
5. AES-256-GCM with that AAD and a 16-byte tag; ``ct`` is the ciphertext as a latin1 string;
6. ``hmac = HMAC-SHA512(key, ct)`` where ``ct`` is a JS *string* written to the HMAC stream
   with its default encoding, UTF-8: every ciphertext byte >= 0x80 is hashed as two bytes;
7. ``JSON.stringify({hmac, ct, iv, salt, aad, at})``: the strings written raw (latin1
   characters, JSON escapes for controls), the Buffers as ``{"type":"Buffer","data":[...]}``.

``kruptein.get`` parses that, derives the key from ``salt``, recomputes and compares the HMAC
(message ``"Encrypted session was tampered with!"``), then decrypts and returns the plaintext
(still JSON-encoded once). ``decrypt`` also undoes step 3, so that
``decrypt(secret, encrypt(secret, text)) == text``.

scrypt with N=16384 costs about 30 ms per call (in Node as in Python): one per ``encrypt``
and one per ``decrypt``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .. import jsjson
from .._js import utf8
from ..errors import KrupteinError

__all__ = ["KrupteinError", "decrypt", "encrypt"]

# kruptein's _matrix("aes-256-gcm") and Node's crypto.scryptSync defaults
KEY_SIZE = 32
IV_SIZE = 12
TAG_SIZE = 16
SALT_SIZE = 128
AAD_KEY_SIZE = 128
SCRYPT_N, SCRYPT_R, SCRYPT_P = 16384, 8, 1

Secret = str | bytes


def encrypt(
    secret: Secret, plaintext: str, *, random_bytes: Callable[[int], bytes] = os.urandom
) -> str:
    """``kruptein.set(secret, plaintext)``: the JSON envelope kruptein writes.

    ``random_bytes(n)`` is called as kruptein calls ``crypto.randomBytes``: 128 (salt), 12
    (IV), 128 (AAD key), in that order; pass a fixed source only to compare with Node.
    """
    secret_bytes = _secret(secret)
    salt = random_bytes(SALT_SIZE)
    key = _derive_key(secret_bytes, salt)
    iv = random_bytes(IV_SIZE)
    # step 3: JSON.stringify of a string escapes lone surrogates, so this UTF-8 is exact
    data = utf8(jsjson.dumps(plaintext))
    aad = hmac.new(random_bytes(AAD_KEY_SIZE), data, hashlib.sha512).digest()
    sealed = AESGCM(key).encrypt(iv, data, aad)
    ct, tag = sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]
    ct_text = ct.decode("latin-1")
    envelope = {
        "hmac": _mac(key, ct_text).decode("latin-1"),
        "ct": ct_text,
        "iv": _buffer_json(iv),
        "salt": _buffer_json(salt),
        "aad": aad.decode("latin-1"),
        "at": _buffer_json(tag),
    }
    return jsjson.dumps(envelope)


def decrypt(secret: Secret, envelope: str) -> str:
    """``kruptein.get(secret, envelope)``, then ``JSON.parse`` of its (string) plaintext.

    Raises :class:`KrupteinError` for an envelope that is not kruptein's JSON, an HMAC that
    does not match (tampered, or the wrong secret: the two cannot be told apart), or a
    ciphertext that does not authenticate.
    """
    secret_bytes = _secret(secret)
    try:
        parsed = jsjson.loads(envelope)
    except ValueError:
        raise KrupteinError("Unable to parse ciphertext object! (not JSON)") from None
    if not isinstance(parsed, Mapping):
        raise KrupteinError("Unable to parse ciphertext object! (not a JSON object)")
    ct_text = _field(parsed, "ct", str)
    given_mac = _field(parsed, "hmac", str)
    salt = _buffer(parsed, "salt")
    iv = _buffer(parsed, "iv")
    tag = _buffer(parsed, "at")
    aad = _latin1(_field(parsed, "aad", str))
    if not 8 <= len(iv) <= 128:  # what AESGCM accepts; kruptein always writes 12 bytes
        raise KrupteinError(f"Unable to decrypt ciphertext! (a {len(iv)}-byte IV)")
    if len(tag) != TAG_SIZE:  # setAuthTag refuses another length (authTagLength: 16)
        raise KrupteinError("Unable to set authentication tag")
    key = _derive_key(secret_bytes, salt)
    # kruptein compares `hmac !== ct.hmac.toString()` (not in constant time; we do)
    if not hmac.compare_digest(utf8(_mac(key, ct_text).decode("latin-1")), utf8(given_mac)):
        raise KrupteinError("Encrypted session was tampered with! (or the secret is wrong)")
    try:
        data = AESGCM(key).decrypt(iv, _latin1(ct_text) + tag, aad)
    except InvalidTag:
        raise KrupteinError("Unable to decrypt ciphertext!") from None
    # decipher.update(ct, "binary", "utf8"): invalid UTF-8 becomes U+FFFD, as in Node
    text = data.decode("utf-8", "replace")
    try:
        plaintext = jsjson.loads(text)
    except ValueError:
        raise KrupteinError("the decrypted plaintext is not JSON") from None
    if not isinstance(plaintext, str):
        raise KrupteinError("the decrypted plaintext is not a JSON string")
    return plaintext


# --- the pieces ------------------------------------------------------------------------------


def _secret(secret: Secret) -> bytes:
    # kruptein: `if (!secret) return cb("Must supply a secret!")`
    if not secret:
        raise KrupteinError("Must supply a secret!")
    # scryptSync(string) hashes the string's UTF-8 bytes
    return secret if isinstance(secret, bytes) else utf8(secret)


def _derive_key(secret: bytes, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=KEY_SIZE, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(secret)


def _mac(key: bytes, ct_text: str) -> bytes:
    # hmac.write(ct) on a string: the stream's default encoding is UTF-8, not "binary"
    return hmac.new(key, utf8(ct_text), hashlib.sha512).digest()


def _latin1(text: str) -> bytes:
    """``Buffer.from(text, "binary")``: the low byte of each UTF-16 code unit."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        units = text.encode("utf-16-le", "surrogatepass")
        return bytes(units[0::2])


def _buffer_json(data: bytes) -> dict[str, Any]:
    """``Buffer.prototype.toJSON()``."""
    return {"type": "Buffer", "data": list(data)}


def _field(envelope: Mapping[str, Any], name: str, kind: type) -> Any:
    value = envelope.get(name)
    if not isinstance(value, kind):
        raise KrupteinError(
            f"Unable to parse ciphertext object! ({name!r} is not a {kind.__name__})"
        )
    return value


def _buffer(envelope: Mapping[str, Any], name: str) -> bytes:
    """A Buffer as JSON.stringify wrote it: ``{"type": "Buffer", "data": [0..255, ...]}``."""
    value = envelope.get(name)
    data = value.get("data") if isinstance(value, Mapping) else None
    if (
        not isinstance(value, Mapping)
        or value.get("type") != "Buffer"
        or not isinstance(data, list)
        or not all(type(byte) is int and 0 <= byte <= 255 for byte in data)
    ):
        raise KrupteinError(f"Unable to parse ciphertext object! ({name!r} is not a Buffer)")
    return bytes(data)
