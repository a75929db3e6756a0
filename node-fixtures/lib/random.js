'use strict'
// A small seeded PRNG (mulberry32) and the awkward pieces that random cases are built from.

function rng (seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n) => Math.floor(next() * n)
  const pick = (items) => items[int(items.length)]
  const chance = (p) => next() < p
  return { next, int, pick, chance }
}

// pieces a Cookie header is made of, the awkward ones included
const PIECES = [
  '=', '=', ';', ';', '; ', ' ', ' ', '\t', '"', '""', ',', '%', '%2', '%zz', '%%',
  '%41', '%20', '%3B', '%3D', '%22', '%25', '%C3%A9', '%e2%82%ac', '%E2%82', '%F0%9F%98%80',
  '%ED%A0%80', '%C0%AF', '%F4%90%80%80', '%FF', '%80', '%C3', '%C3%28', '%F0%9F%98',
  'a', 'b', 'x', 'foo', 'bar', 'connect.sid', 'sid', '__proto__', 'constructor', 'toString',
  'hasOwnProperty', '0', '1', '42', 's:', 'é', 'ü', '€', '😀', '\ud800', '\udc00', '\ud83d',
  '\n', '\r', '\x00', '\x0b', '\x7f', '\xa0', '\u3000', '\u2028', '+', '/', '.', 'v', '\\'
]

function header (r, maxPieces = 14) {
  let out = ''
  const n = 1 + r.int(maxPieces)
  for (let i = 0; i < n; i++) out += r.pick(PIECES)
  return out
}

const STRING_PIECES = [
  'a', 'Z', '0', ' ', '.', '..', ':', 's:', '=', ';', '"', '\\', '/', '+', '-', '_', '%', '%41',
  'é', 'ß', '€', '😀', '\ud800', '\udfff', '\ud83d\ude00', '\u0000', '\t', '\n', '\u2028',
  'connect', 'sid', 'secret', '\ufeff', '\uffff', 'İ', 'K'
]

function text (r, maxPieces = 10) {
  let out = ''
  const n = r.int(maxPieces + 1)
  for (let i = 0; i < n; i++) out += r.pick(STRING_PIECES)
  return out
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

function uid (r) {
  // the shape of uid-safe(24): 32 base64url characters
  const alphabet = B64.slice(0, 62) + '-_'
  let out = ''
  for (let i = 0; i < 32; i++) out += alphabet[r.int(64)]
  return out
}

// ways a signed value goes wrong in transit or in an attacker's hands
function mutate (r, signed) {
  const dot = signed.lastIndexOf('.')
  switch (r.int(14)) {
    case 0: { // flip one character
      const i = r.int(signed.length)
      const c = signed[i] === 'A' ? 'B' : 'A'
      return signed.slice(0, i) + c + signed.slice(i + 1)
    }
    case 1: return signed.slice(0, r.int(signed.length)) // truncated
    case 2: return signed + '='.repeat(1 + r.int(3)) // padding put back
    case 3: return signed.toUpperCase()
    case 4: return signed.toLowerCase()
    case 5: return signed.slice(0, dot) // signature dropped
    case 6: return signed.slice(0, dot + 1) // empty signature
    case 7: return signed.replace(/\+/g, '-').replace(/\//g, '_') // base64url
    case 8: return signed + '.' + signed.slice(dot + 1) // signature twice
    case 9: return 'x' + signed // id changed
    case 10: return signed.slice(0, dot) + signed.slice(dot).replace(/.$/, (c) => c === 'a' ? 'b' : 'a')
    case 11: return signed + ' '
    case 12: return signed.slice(0, dot) + '.' + signed.slice(dot + 1, -1) // one short
    default: return signed // untouched
  }
}

module.exports = { rng, header, text, uid, mutate, PIECES }
