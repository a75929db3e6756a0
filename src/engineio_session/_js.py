"""JavaScript string and number semantics that Node's answers depend on.

A JS string is a sequence of UTF-16 code units, so it can hold a lone surrogate; a Python
``str`` can too (as a code point in U+D800..U+DFFF). Node encodes such a string to UTF-8
with every lone surrogate replaced by U+FFFD (WHATWG "USVString" conversion), and JS prints
numbers by ECMAScript ``Number::toString``. Both matter wherever a byte or a digit reaches
the wire, so they live here once.

>>> utf8(\"a\\ud800b\")
b'a\\xef\\xbf\\xbdb'
>>> number_to_string(1e21), number_to_string(1e-7), number_to_string(-0.0)
('1e+21', '1e-7', '0')
"""

from __future__ import annotations

import math

__all__ = ["number_to_string", "to_well_formed", "utf8"]


def to_well_formed(text: str) -> str:
    """Return ``text`` as JS ``String.prototype.toWellFormed`` would.

    Surrogate pairs written as two Python code points are joined into one astral code point,
    and each lone surrogate becomes U+FFFD, as Node's UTF-8 encoder treats them.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def utf8(text: str) -> bytes:
    """Encode ``text`` as Node's ``Buffer.from(text, 'utf8')`` does."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return to_well_formed(text).encode("utf-8")


def number_to_string(value: float) -> str:
    """Format a number as ECMAScript ``Number::toString(value)`` (radix 10).

    Python's ``repr`` already gives the shortest digits that round-trip, as JS does; only
    the layout differs (ECMA-262 sec 6.1.6.1.20).
    """
    if isinstance(value, int) and not isinstance(value, bool) and -(2**53) <= value <= 2**53:
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if number == 0:
        return "0"
    if number < 0:
        return "-" + number_to_string(-number)
    if math.isinf(number):
        return "Infinity"
    mantissa, _, exponent_text = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # position of the decimal point relative to the first significant digit
    point = (
        len(whole.lstrip("0")) if whole.strip("0") else -(len(fraction) - len(fraction.lstrip("0")))
    )
    point += int(exponent_text or 0)
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exponent = n - 1
    sign = "+" if exponent >= 0 else "-"
    head = digits[0] if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(exponent)}"
