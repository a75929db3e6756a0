"""Node's ``Buffer.from(text, 'base64')``, byte for byte (Node 20's own decoder).

cookie-session reads its cookie with it, and Node is lenient: it reads both alphabets
(``+/`` and ``-_``), skips any other character, stops at an ``=`` inside the text, decodes a
partial last group, and sizes its output from the text's length, so junk characters can cut
the result short. It reads each UTF-16 code unit of the string by its low byte only, so
``"\\u0141"`` counts as ``"A"``. (Node src/base64-inl.h ``base64_decode_fast`` and
``base64_decode_group_slow``, lib/buffer.js ``base64ByteLength``.)

>>> [buffer_from_base64(text) for text in ("eyJhIjoxfQ", "eyJhIjox fQ==", "QQ=Q", "Q\u0141JD")]
[b'{"a":1}', b'{"a":1}', b'A', b'@\\x02C']
"""

from __future__ import annotations

import binascii
import re

__all__ = ["buffer_from_base64"]

# Node's unbase64 table: both alphabets ("+" and "-" are 62, "/" and "_" 63), 255 for the rest
_UNBASE64 = bytearray([255]) * 256
for _value, _char in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"):
    _UNBASE64[_char] = _value
_UNBASE64[ord("-")] = 62
_UNBASE64[ord("_")] = 63
_EQ = 0x3D
# a spelling that every decoder reads alike: whole groups of either alphabet, the last one
# padded or not (never a lone character): binascii decodes it exactly as Node does
_PLAIN = re.compile(r"(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def buffer_from_base64(text: str) -> bytes:
    """The bytes of ``Buffer.from(text, 'base64')`` in Node 20, however odd ``text`` is."""
    if text.isascii():
        src = text.encode("ascii")
        if _PLAIN.fullmatch(text):
            if not src.endswith(b"="):
                src += b"=" * (-len(src) % 4)
            return binascii.a2b_base64(src.translate(_TO_STANDARD))
        return _decode(src, None)
    wide = text.encode("utf-16-le", "surrogatepass")
    return _decode(wide[0::2], wide)  # static_cast<uint8_t>(src[i]): each unit's low byte


def _decode(src: bytes, wide: bytes | None) -> bytes:
    length = len(src)

    def is_eq(i: int) -> bool:  # a whole code unit compared to '=' (no truncation there)
        return src[i] == _EQ and (wide is None or wide[2 * i + 1] == 0)

    # lib/buffer.js base64ByteLength(): the size of the buffer Node allocates
    size = length
    if size >= 1 and is_eq(size - 1):
        size -= 1
    if size > 1 and is_eq(size - 1):
        size -= 1
    dstlen = (size * 3) >> 2
    # base64_decoded_size(): it bounds only the fast loop
    decoded = 0
    if length >= 2:
        size = length
        if is_eq(size - 1):
            size -= 1
            if is_eq(size - 1):
                size -= 1
        decoded = (size // 4) * 3 + (size % 4 + 1) // 2 if size > 1 else 0
    max_k = min(dstlen, decoded) // 3 * 3
    max_i = length // 4 * 4
    out = bytearray()
    table = _UNBASE64
    i = 0
    while i < max_i and len(out) < max_k:
        a, b, c, d = table[src[i]], table[src[i + 1]], table[src[i + 2]], table[src[i + 3]]
        if (a | b | c | d) & 0x80:  # not four legal characters: the slow path
            i, more = _group_slow(src, i, out, dstlen)
            if not more:
                return bytes(out)
            max_i = i + (length - i) // 4 * 4
        else:
            out += bytes(((a << 2) | (b >> 4), ((b & 0x0F) << 4) | (c >> 2), ((c & 3) << 6) | d))
            i += 4
    if i < length and len(out) < dstlen:
        _group_slow(src, i, out, dstlen)
    return bytes(out)


def _group_slow(src: bytes, i: int, out: bytearray, dstlen: int) -> tuple[int, bool]:
    """One group of four legal characters, illegal ones skipped; False: stop decoding."""
    length = len(src)
    hi = 0
    for step in range(4):
        while True:
            char = src[i]
            lo = _UNBASE64[char]
            i += 1
            if lo < 64:
                break
            if char == _EQ or i >= length:
                return i, False
        if step == 1:
            out.append(((hi & 0x3F) << 2) | ((lo & 0x30) >> 4))
        elif step == 2:
            out.append(((hi & 0x0F) << 4) | ((lo & 0x3C) >> 2))
        elif step == 3:
            out.append(((hi & 0x03) << 6) | (lo & 0x3F))
        if i >= length or len(out) >= dstlen:
            return i, False
        hi = lo
    return i, True
