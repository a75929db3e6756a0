/* engineio_session._speedups: the handshake's hot path in C, an optional accelerator.
 *
 * Every function here answers exactly what its pure-Python reference answers, or defers to
 * it: each takes only the spelling Node itself writes (express-session's signed cookie as
 * a browser sends it, the stored session as connect-redis / session-file-store write it)
 * and hands anything else to the Python code, which stays the reference for every quirk
 * (tests/test_speedups.py holds the two to the same answers). No I/O, no state but the
 * HMAC keys the caller keeps.
 *
 *   hmac_sha256_key(key: bytes) -> bytes             the keyed inner/outer SHA-256 states
 *   hmac_sha256(keyed: bytes, message: bytes) -> bytes   the 32-byte MAC (for the tests)
 *   signed_id(name, keys, fallback, header) -> str | None
 *       express-session's getcookie() + cookie-signature's unsign() on a Cookie header:
 *       the id if a key's signature matches, None if none does or there is no such cookie;
 *       any other spelling (quotes, blanks, rare escapes, non-ASCII) is fallback(header)
 *   stored_cookie(text) -> (end, expires_ms | None) | None
 *       where the cookie of a stored session ends and its expiry, for text that begins
 *       '{"cookie":{' with only plain members in it; None: ask the Python decoder
 *   first_member(scan_once, fallback, text, index, key) -> (value, end) | None
 *       jsjson.first_member (the first value a handshake reads, the passport user)
 *   bulk_array(buffer, position) -> (list[bytes | None], end) | None
 *       the RESP2 array of bulk strings and nulls (an MGET's reply) that starts at
 *       position; None for any other reply, an incomplete one or no RESP
 *   iso_date(text) -> int | None     Date.parse of a toJSON() string (for the tests)
 */
#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* --- SHA-256 (FIPS 180-4) and HMAC (RFC 2104) ------------------------------------------- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static const uint32_t IV256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t state[8], const unsigned char block[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) {
        w[i] = ((uint32_t)block[4 * i] << 24) | ((uint32_t)block[4 * i + 1] << 16) |
               ((uint32_t)block[4 * i + 2] << 8) | (uint32_t)block[4 * i + 3];
    }
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) +
                      K256[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

/* SHA-256 of `data` continuing `state`, which has already hashed `done` bytes (a multiple of
 * 64); the digest is written big-endian into out[32]. */
static void sha256_finish(uint32_t state[8], uint64_t done, const unsigned char *data,
                          Py_ssize_t size, unsigned char out[32]) {
    unsigned char block[64];
    uint64_t bits = (done + (uint64_t)size) * 8;
    while (size >= 64) {
        sha256_block(state, data);
        data += 64;
        size -= 64;
    }
    memcpy(block, data, (size_t)size);
    block[size] = 0x80;
    if (size >= 56) {
        memset(block + size + 1, 0, (size_t)(63 - size));
        sha256_block(state, block);
        memset(block, 0, 56);
    } else {
        memset(block + size + 1, 0, (size_t)(55 - size));
    }
    for (int i = 0; i < 8; i++) {
        block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    }
    sha256_block(state, block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(state[i] >> 24);
        out[4 * i + 1] = (unsigned char)(state[i] >> 16);
        out[4 * i + 2] = (unsigned char)(state[i] >> 8);
        out[4 * i + 3] = (unsigned char)state[i];
    }
}

/* A key's HMAC states: the inner and the outer SHA-256 state after its padded key block. */
typedef struct {
    uint32_t inner[8];
    uint32_t outer[8];
} keyed_t;

static void hmac_sha256(const keyed_t *keyed, const unsigned char *message, Py_ssize_t size,
                        unsigned char out[32]) {
    uint32_t state[8];
    unsigned char inner[32];
    memcpy(state, keyed->inner, sizeof state);
    sha256_finish(state, 64, message, size, inner);
    memcpy(state, keyed->outer, sizeof state);
    sha256_finish(state, 64, inner, 32, out);
}

static PyObject *py_hmac_sha256_key(PyObject *module, PyObject *arg) {
    Py_buffer key;
    unsigned char block[64], hashed[32];
    keyed_t keyed;
    if (PyObject_GetBuffer(arg, &key, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    memset(block, 0, sizeof block);
    if (key.len > 64) { /* RFC 2104: a key longer than the block is hashed first */
        uint32_t state[8];
        memcpy(state, IV256, sizeof state);
        sha256_finish(state, 0, key.buf, key.len, hashed);
        memcpy(block, hashed, 32);
    } else {
        memcpy(block, key.buf, (size_t)key.len);
    }
    PyBuffer_Release(&key);
    unsigned char pad[64];
    for (int i = 0; i < 64; i++) {
        pad[i] = block[i] ^ 0x36;
    }
    memcpy(keyed.inner, IV256, sizeof keyed.inner);
    sha256_block(keyed.inner, pad);
    for (int i = 0; i < 64; i++) {
        pad[i] = block[i] ^ 0x5c;
    }
    memcpy(keyed.outer, IV256, sizeof keyed.outer);
    sha256_block(keyed.outer, pad);
    return PyBytes_FromStringAndSize((const char *)&keyed, sizeof keyed);
}

static const keyed_t *as_keyed(PyObject *object) {
    if (!PyBytes_CheckExact(object) || PyBytes_GET_SIZE(object) != (Py_ssize_t)sizeof(keyed_t)) {
        PyErr_SetString(PyExc_TypeError, "a key made by hmac_sha256_key is needed");
        return NULL;
    }
    return (const keyed_t *)PyBytes_AS_STRING(object);
}

static PyObject *py_hmac_sha256(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    Py_buffer message;
    unsigned char mac[32];
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "hmac_sha256(keyed, message)");
        return NULL;
    }
    const keyed_t *keyed = as_keyed(args[0]);
    if (keyed == NULL || PyObject_GetBuffer(args[1], &message, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    hmac_sha256(keyed, message.buf, message.len, mac);
    PyBuffer_Release(&message);
    return PyBytes_FromStringAndSize((const char *)mac, 32);
}

/* The pair (index, value) if index_first, else (value, index); `value` (a new reference,
 * or NULL with an error set) is given to the pair or released. */
static PyObject *indexed(Py_ssize_t index, PyObject *value, int index_first) {
    if (value == NULL) return NULL;
    PyObject *number = PyLong_FromSsize_t(index), *pair = NULL;
    if (number != NULL) {
        pair = index_first ? PyTuple_Pack(2, number, value) : PyTuple_Pack(2, value, number);
        Py_DECREF(number);
    }
    Py_DECREF(value);
    return pair;
}

/* --- the signed session cookie: cookie@0.7.2 parse, express-session getcookie ------------- */

#define MAX_COOKIE_VALUE 4096 /* options.MAX_COOKIE_VALUE */
#define MAC_LENGTH 43          /* base64 of 32 bytes, its '=' stripped (cookie-signature) */

static int base64_digit(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* The 32 bytes of the 43 characters cookie-signature writes, or -1. Only its own spelling:
 * the last character holds 4 bits and two zero bits (signature.py's _CANONICAL_LAST). */
static int decode_mac(const char *text, unsigned char out[32]) {
    uint32_t bits = 0;
    int count = 0, at = 0;
    for (int i = 0; i < MAC_LENGTH; i++) {
        int digit = base64_digit((unsigned char)text[i]);
        if (digit < 0) return -1;
        bits = (bits << 6) | (uint32_t)digit;
        count += 6;
        if (count >= 8) {
            count -= 8;
            out[at++] = (unsigned char)(bits >> count);
        }
    }
    return (count == 2 && (bits & 3) == 0 && at == 32) ? 0 : -1;
}

static int same_mac(const unsigned char *a, const unsigned char *b) {
    unsigned char differ = 0; /* every byte compared: no early exit on the first difference */
    for (int i = 0; i < 32; i++) differ |= a[i] ^ b[i];
    return differ == 0;
}

/* The escapes encodeURIComponent writes into a signed cookie, the only ones decoded here
 * (cookies.decode_uri_component's fast path); 0 for any other. */
static char known_escape(const char *at) {
    if (at[0] == '3' && at[1] == 'A') return ':';
    if (at[0] == '2' && at[1] == 'F') return '/';
    if (at[0] == '2' && at[1] == 'B') return '+';
    if (at[0] == '3' && at[1] == 'D') return '=';
    return 0;
}

#define DEFER ((PyObject *)1) /* not this spelling: the Python reference answers */

static PyObject *verify_signed_id(const char *header, Py_ssize_t size, const char *name,
                                  Py_ssize_t name_size, PyObject *keys) {
    /* cookies.find_token_cookie: the first place the name appears, at a segment's start */
    const char *found = NULL;
    if (name_size == 0) return DEFER; /* no cookie name: attach never has one */
    if (name_size > size) return Py_None;
    for (const char *at = header; at + name_size <= header + size; at++) {
        at = memchr(at, name[0], (size_t)(header + size - at));
        if (at == NULL || at + name_size > header + size) break;
        if (memcmp(at, name, (size_t)name_size) == 0) {
            found = at;
            break;
        }
    }
    if (found == NULL) return Py_None; /* no key can be the name */
    Py_ssize_t offset = found - header;
    if (!(offset == 0 || header[offset - 1] == ';' ||
          (offset >= 2 && header[offset - 2] == ';' && header[offset - 1] == ' '))) {
        return DEFER;
    }
    Py_ssize_t start = offset + name_size;
    if (start >= size || header[start] != '=') return DEFER;
    const char *raw = header + start + 1;
    const char *semicolon = memchr(raw, ';', (size_t)(header + size - raw));
    Py_ssize_t raw_size = (semicolon ? semicolon : header + size) - raw;
    if (raw_size == 0) return DEFER;
    char first = raw[0], last = raw[raw_size - 1];
    if (first == ' ' || first == '\t' || first == '"' || last == ' ' || last == '\t' ||
        last == '"') {
        return DEFER; /* trimmed or unquoted first: cookies.find_cookie */
    }
    /* decoded, only where every '%' begins one of the four escapes of a signed cookie */
    Py_ssize_t escapes = 0;
    for (Py_ssize_t i = 0; i < raw_size; i++) {
        if (raw[i] == '%') {
            if (i + 2 >= raw_size) return DEFER; /* a '%' without two characters after it */
            if (!known_escape(raw + i + 1)) return DEFER;
            escapes++;
            i += 2;
        }
    }
    Py_ssize_t value_size = raw_size - 2 * escapes;
    if (value_size > MAX_COOKIE_VALUE) return Py_None; /* options.MAX_COOKIE_VALUE */
    char value[MAX_COOKIE_VALUE];
    for (Py_ssize_t i = 0, at = 0; i < raw_size; i++) {
        if (raw[i] == '%') {
            value[at++] = known_escape(raw + i + 1);
            i += 2;
        } else {
            value[at++] = raw[i];
        }
    }
    if (value_size < 2 || value[0] != 's' || value[1] != ':') return Py_None; /* unsigned */
    /* cookie-signature unsign(): the value up to the last '.', then the MAC */
    const char *signed_value = value + 2;
    Py_ssize_t signed_size = value_size - 2, dot = -1;
    for (Py_ssize_t i = signed_size - 1; i >= 0; i--) {
        if (signed_value[i] == '.') {
            dot = i;
            break;
        }
    }
    unsigned char given[32], mac[32];
    if (dot == -1 || signed_size - dot != MAC_LENGTH + 1 ||
        decode_mac(signed_value + dot + 1, given) < 0) {
        return Py_None;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(keys);
    for (Py_ssize_t i = 0; i < count; i++) {
        const keyed_t *keyed = as_keyed(PyTuple_GET_ITEM(keys, i));
        if (keyed == NULL) return NULL;
        hmac_sha256(keyed, (const unsigned char *)signed_value, dot, mac);
        if (same_mac(mac, given)) {
            return PyUnicode_DecodeASCII(signed_value, dot, NULL);
        }
    }
    return Py_None;
}

static PyObject *py_signed_id(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "signed_id(name, keys, fallback, header)");
        return NULL;
    }
    PyObject *name = args[0], *keys = args[1], *fallback = args[2], *header = args[3];
    if (!PyUnicode_Check(name) || !PyTuple_Check(keys) || !PyUnicode_Check(header)) {
        PyErr_SetString(PyExc_TypeError, "signed_id(name: str, keys: tuple, fallback, header: str)");
        return NULL;
    }
    PyObject *answer = DEFER;
    if (PyUnicode_IS_ASCII(header) && PyUnicode_IS_ASCII(name)) {
        answer = verify_signed_id((const char *)PyUnicode_DATA(header),
                                  PyUnicode_GET_LENGTH(header), (const char *)PyUnicode_DATA(name),
                                  PyUnicode_GET_LENGTH(name), keys);
    }
    if (answer == DEFER) {
        return PyObject_CallOneArg(fallback, header);
    }
    if (answer == Py_None) {
        Py_RETURN_NONE;
    }
    return answer; /* a new reference, or NULL with an error set */
}

/* --- the stored session's cookie: JSON.parse of the members express-session writes ------- */

/* Date.parse of the form Date.prototype.toJSON writes, "YYYY-MM-DDTHH:MM:SS.mmmZ", as
 * _js.parse_date's fast path reads it (V8 lets a day up to 31 roll over into the next
 * month: ES MakeDay), read from 24 one-byte characters; 0 and *ms set, or -1 for any other
 * text. */
static int two_digits(const Py_UCS1 *c, int at) {
    if (c[at] < '0' || c[at] > '9' || c[at + 1] < '0' || c[at + 1] > '9') return -1;
    return (int)(c[at] - '0') * 10 + (int)(c[at + 1] - '0');
}

static int parse_iso_z(const Py_UCS1 *c, int64_t *ms) {
    if (c[4] != '-' || c[7] != '-' || c[10] != 'T' || c[13] != ':' ||
        c[16] != ':' || c[19] != '.' || c[23] != 'Z') {
        return -1;
    }
    int century = two_digits(c, 0), years = two_digits(c, 2), month = two_digits(c, 5);
    int day = two_digits(c, 8), hour = two_digits(c, 11), minute = two_digits(c, 14);
    int second = two_digits(c, 17), hundreds = two_digits(c, 20);
    if (century < 0 || years < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 ||
        second < 0 || hundreds < 0 || c[22] < '0' || c[22] > '9') {
        return -1;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 59) {
        return -1;
    }
    int64_t year = century * 100 + years - (month <= 2);
    /* days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil,
     * as _js._days_from_civil); year >= -1 here, so plain division is floor division */
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    int millis = hundreds * 10 + (int)(c[22] - '0'); /* two digits, then the third */
    *ms = days * 86400000 + ((int64_t)(hour * 60 + minute) * 60 + second) * 1000 + millis;
    return 0;
}

/* The text of a stored session, read as Latin-1 (Python's one-byte strings, which every
 * session written in ASCII is); a text with wider characters is the Python decoder's. */
typedef struct {
    const Py_UCS1 *data;
    Py_ssize_t size;
    Py_ssize_t at;
} reader_t;

#define PEEK(r) ((r)->at < (r)->size ? (r)->data[(r)->at] : 0)

/* A string with nothing to unescape: its content's [start, end), or -1 (an escape, a
 * control character or a non-ASCII one: the Python decoder reads those). */
static int plain_string(reader_t *r, Py_ssize_t *start, Py_ssize_t *end) {
    r->at++; /* the opening quote */
    *start = r->at;
    for (;;) {
        Py_UCS1 c = PEEK(r);
        if (c == '"') break;
        if (c < 0x20 || c >= 0x7f || c == '\\') return -1; /* 0 (the end) included */
        r->at++;
    }
    *end = r->at++;
    return 0;
}

static int digits(reader_t *r) {
    Py_ssize_t from = r->at;
    while (PEEK(r) >= '0' && PEEK(r) <= '9') r->at++;
    return r->at > from ? 0 : -1;
}

/* ECMA-404 number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(reader_t *r) {
    if (PEEK(r) == '-') r->at++;
    if (PEEK(r) == '0') {
        r->at++;
    } else if (digits(r) < 0) {
        return -1;
    }
    if (PEEK(r) == '.') {
        r->at++;
        if (digits(r) < 0) return -1;
    }
    if (PEEK(r) == 'e' || PEEK(r) == 'E') {
        r->at++;
        if (PEEK(r) == '+' || PEEK(r) == '-') r->at++;
        if (digits(r) < 0) return -1;
    }
    return 0;
}

static int literal(reader_t *r, const char *word) {
    for (const char *w = word; *w; w++, r->at++) {
        if (PEEK(r) != (Py_UCS1)*w) return -1;
    }
    return 0;
}

static int key_is(const reader_t *r, Py_ssize_t start, Py_ssize_t end, const char *word) {
    size_t size = strlen(word);
    return (size_t)(end - start) == size && memcmp(r->data + start, word, size) == 0;
}

enum { ABSENT, IS_NULL, IS_STRING, IS_NUMBER, IS_OTHER };

static PyObject *py_stored_cookie(PyObject *module, PyObject *text) {
    static const char opening[] = "{\"cookie\":{", member[] = "\"cookie\":";
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "stored_cookie(text: str)");
        return NULL;
    }
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) Py_RETURN_NONE;
    reader_t r = {PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text), 0};
    if (literal(&r, opening) < 0) Py_RETURN_NONE;
    int expires = ABSENT, max_age = ABSENT;
    Py_ssize_t expires_start = 0, expires_end = 0;
    if (PEEK(&r) == '}') {
        r.at++;
    } else {
        for (;;) {
            Py_ssize_t key_start, key_end, value_start = 0, value_end = 0;
            int kind;
            if (PEEK(&r) != '"' || plain_string(&r, &key_start, &key_end) < 0) Py_RETURN_NONE;
            if (PEEK(&r) != ':') Py_RETURN_NONE;
            r.at++;
            Py_UCS1 c = PEEK(&r);
            if (c == '"') {
                if (plain_string(&r, &value_start, &value_end) < 0) Py_RETURN_NONE;
                kind = IS_STRING;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                if (json_number(&r) < 0) Py_RETURN_NONE;
                kind = IS_NUMBER;
            } else if (c == 'n') {
                if (literal(&r, "null") < 0) Py_RETURN_NONE;
                kind = IS_NULL;
            } else if (c == 't' || c == 'f') {
                if (literal(&r, c == 't' ? "true" : "false") < 0) Py_RETURN_NONE;
                kind = IS_OTHER;
            } else {
                Py_RETURN_NONE; /* an object, an array, a blank: the Python decoder */
            }
            /* JSON.parse keeps a repeated key's last value, as a dict does */
            if (key_is(&r, key_start, key_end, "expires")) {
                expires = kind;
                expires_start = value_start;
                expires_end = value_end;
            } else if (key_is(&r, key_start, key_end, "originalMaxAge")) {
                max_age = kind;
            }
            c = PEEK(&r);
            r.at++;
            if (c == '}') break;
            if (c != ',') Py_RETURN_NONE;
        }
    }
    Py_ssize_t end = r.at;
    /* decode_session's conditions: more members or the end after the cookie, the text one
     * object, and no later "cookie" member that JSON.parse would take instead */
    Py_UCS1 next = PEEK(&r);
    if ((next != ',' && next != '}') || r.data[r.size - 1] != '}') Py_RETURN_NONE;
    if (memmem(r.data + end, (size_t)(r.size - end), member, sizeof member - 1) != NULL) {
        Py_RETURN_NONE;
    }
    /* Cookie.checked_expiry: a number or null for originalMaxAge, a date string or null
     * for expires; anything else is the Python decoder's to explain */
    if (max_age != ABSENT && max_age != IS_NULL && max_age != IS_NUMBER) Py_RETURN_NONE;
    PyObject *expiry;
    if (expires == ABSENT || expires == IS_NULL) {
        expiry = Py_NewRef(Py_None);
    } else {
        int64_t ms;
        if (expires != IS_STRING || expires_end - expires_start != 24) Py_RETURN_NONE;
        if (parse_iso_z(r.data + expires_start, &ms) < 0) Py_RETURN_NONE;
        expiry = PyLong_FromLongLong((long long)ms);
    }
    return indexed(end, expiry, 1);
}

static PyObject *py_iso_date(PyObject *module, PyObject *text) {
    int64_t ms;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "iso_date(text: str)");
        return NULL;
    }
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || PyUnicode_GET_LENGTH(text) != 24) {
        Py_RETURN_NONE; /* not the toJSON form: parse_date answers */
    }
    if (parse_iso_z(PyUnicode_1BYTE_DATA(text), &ms) < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)ms);
}

/* jsjson.first_member for a one-byte text and an ASCII key: the value of the member `key`
 * that starts at text[index] when no later member can repeat it, scanned by `scan_once`
 * (jsjson's, JSON.parse's rules); None where the whole scan must decide. Any other text or
 * key, and any error of the scan, is fallback(text, index, key)'s (which raises the error
 * Python's code raises). */
static PyObject *py_first_member(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !PyUnicode_Check(args[2]) || !PyLong_Check(args[3]) ||
        !PyUnicode_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "first_member(scan_once, fallback, text: str, index: int, key: str)");
        return NULL;
    }
    PyObject *scan_once = args[0], *fallback = args[1], *text = args[2], *key = args[4];
    Py_ssize_t index = PyLong_AsSsize_t(args[3]);
    if (index == -1 && PyErr_Occurred()) return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND || !PyUnicode_IS_ASCII(key) || index < 0) {
        return PyObject_Vectorcall(fallback, args + 2, 3, NULL);
    }
    const char *data = (const char *)PyUnicode_1BYTE_DATA(text);
    const char *name = (const char *)PyUnicode_DATA(key);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text), key_size = PyUnicode_GET_LENGTH(key);
    Py_ssize_t start = index + key_size + 1; /* the closing quote of the key */
    /* '"key":' at index, no escape anywhere in the text, no quote in the key */
    if (start + 2 > size || data[index] != '"' || memcmp(data + index + 1, name, (size_t)key_size) ||
        data[start] != '"' || data[start + 1] != ':' || memchr(name, '"', (size_t)key_size) ||
        memchr(data, '\\', (size_t)size)) {
        Py_RETURN_NONE;
    }
    PyObject *at = PyLong_FromSsize_t(start + 2);
    if (at == NULL) return NULL;
    PyObject *scanned = PyObject_CallFunctionObjArgs(scan_once, text, at, NULL);
    Py_DECREF(at);
    if (scanned == NULL) { /* not JSON, or nested too deeply: Python's code says which */
        PyErr_Clear();
        return PyObject_Vectorcall(fallback, args + 2, 3, NULL);
    }
    Py_ssize_t end = -1;
    if (PyTuple_CheckExact(scanned) && PyTuple_GET_SIZE(scanned) == 2) {
        end = PyLong_AsSsize_t(PyTuple_GET_ITEM(scanned, 1));
        if (end == -1 && PyErr_Occurred()) {
            Py_DECREF(scanned);
            return NULL;
        }
    }
    if (end < 0 || end >= size) {
        Py_DECREF(scanned);
        Py_RETURN_NONE;
    }
    if (data[end] == ',') {
        /* a later member may repeat the key (JSON.parse keeps the last): the scan decides */
        Py_ssize_t quoted = start + 1 - index; /* '"key"' */
        if (memmem(data + end, (size_t)(size - end), data + index, (size_t)quoted) != NULL) {
            Py_DECREF(scanned);
            Py_RETURN_NONE;
        }
    } else if (data[end] != '}' || end + 1 != size) {
        Py_DECREF(scanned);
        Py_RETURN_NONE;
    }
    return scanned; /* (value, end) */
}

/* --- Redis replies: an MGET's array of bulk strings (RESP2) ---------------------------- */

/* The digits of a RESP length up to "\r\n" at *at (which then points past it), or -1: no
 * digit, a sign, a blank, an overflow, or the buffer ends first (reads.parse_reply reads
 * all of those, as int() does, or says what is wrong). */
static Py_ssize_t resp_length(const char *data, Py_ssize_t size, Py_ssize_t *at) {
    Py_ssize_t value = 0, from = *at, i = *at;
    while (i < size && data[i] >= '0' && data[i] <= '9') {
        if (value > (PY_SSIZE_T_MAX - 9) / 10) return -1;
        value = value * 10 + (data[i] - '0');
        i++;
    }
    if (i == from || i + 1 >= size || data[i] != '\r' || data[i + 1] != '\n') return -1;
    *at = i + 2;
    return value;
}

static PyObject *bulk_array(const char *data, Py_ssize_t size, Py_ssize_t at) {
    if (at >= size || data[at] != '*') Py_RETURN_NONE;
    at++;
    Py_ssize_t count = resp_length(data, size, &at);
    if (count < 0) Py_RETURN_NONE;
    /* a length is at least "$0\r\n\r\n" or "$-1\r\n": a count the buffer cannot hold is
     * incomplete, and no list is made for it */
    if (count > (size - at) / 5) Py_RETURN_NONE;
    PyObject *items = PyList_New(count);
    if (items == NULL) return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item;
        if (at >= size || data[at] != '$') goto other;
        at++;
        if (at + 3 < size && data[at] == '-' && data[at + 1] == '1' && data[at + 2] == '\r' &&
            data[at + 3] == '\n') {
            at += 4;
            item = Py_NewRef(Py_None);
        } else {
            Py_ssize_t length = resp_length(data, size, &at);
            if (length < 0 || length > size - at - 2) goto other;
            if (data[at + length] != '\r' || data[at + length + 1] != '\n') goto other;
            item = PyBytes_FromStringAndSize(data + at, length);
            if (item == NULL) {
                Py_DECREF(items);
                return NULL;
            }
            at += length + 2;
        }
        PyList_SET_ITEM(items, i, item);
    }
    return indexed(at, items, 0);
other: /* another reply, an incomplete one or no RESP: the Python parser's */
    Py_DECREF(items);
    Py_RETURN_NONE;
}

static PyObject *py_bulk_array(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    Py_buffer buffer;
    if (nargs != 2 || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "bulk_array(buffer, position: int)");
        return NULL;
    }
    Py_ssize_t at = PyLong_AsSsize_t(args[1]);
    if (at == -1 && PyErr_Occurred()) return NULL;
    if (PyObject_GetBuffer(args[0], &buffer, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *answer = at < 0 ? Py_NewRef(Py_None) : bulk_array(buffer.buf, buffer.len, at);
    PyBuffer_Release(&buffer);
    return answer;
}

static PyMethodDef methods[] = {
    {"hmac_sha256_key", py_hmac_sha256_key, METH_O,
     "The keyed HMAC-SHA256 states of a key (bytes), for hmac_sha256 and signed_id."},
    {"hmac_sha256", (PyCFunction)(void (*)(void))py_hmac_sha256, METH_FASTCALL,
     "HMAC-SHA256(keyed, message) -> 32 bytes."},
    {"signed_id", (PyCFunction)(void (*)(void))py_signed_id, METH_FASTCALL,
     "signed_id(name, keys, fallback, header) -> the verified session id, or None."},
    {"stored_cookie", py_stored_cookie, METH_O,
     "stored_cookie(text) -> (end of the cookie, its expiry in ms or None), or None."},
    {"first_member", (PyCFunction)(void (*)(void))py_first_member, METH_FASTCALL,
     "first_member(scan_once, fallback, text, index, key) -> (value, end) | None."},
    {"bulk_array", (PyCFunction)(void (*)(void))py_bulk_array, METH_FASTCALL,
     "bulk_array(buffer, position) -> (a RESP array of bulk strings or nulls, its end), or None."},
    {"iso_date", py_iso_date, METH_O,
     "iso_date(text) -> Date.parse of a Date.prototype.toJSON string in ms, or None."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "engineio_session._speedups",
                                    "The handshake's hot path in C (see the top of _speedups.c).",
                                    0, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModuleDef_Init(&module); }
