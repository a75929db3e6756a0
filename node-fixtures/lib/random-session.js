'use strict'
// Random session objects for the Node -> Python -> Node property test: express-session's
// cookie, then nested user data with the awkward values (unicode, lone surrogates, numbers
// at the edges of a double, array-index keys, "__proto__" as an own key).

const { Cookie } = require('express-session')
const { rng } = require('./random')

const STRINGS = [
  '', 'a', 'user', 'é', '😀', '\ud800', '\udfff', '\u2028', '\u2029', '\u0000', '\u001f', '\u007f',
  '"', '\\', '/', '\n\t', '\ufeff', '\uffff', 'İ', 'ß', '𝔘𝔫𝔦', 'a\ud83d', '\ud83dx', '</script>'
]
const KEYS = [
  'user', 'passport', 'flash', 'cart', 'n', 'x', 'é', '😀', '0', '1', '10', '01', '-1', '1.5',
  '4294967294', '4294967295', '__proto__', 'constructor', 'toString', 'cookie2', '', ' ', '\ud800'
]
const NUMBERS = [
  0, -0, 1, -1, 0.1, 0.5, 1e21, 1e-7, 1e-6, 5e-324, 1.7976931348623157e308, 2 ** 53, 2 ** 53 + 2,
  -(2 ** 53), 2 ** 64, 123456789.125, 1 / 3, 100, 1e20, 4294967295, -1e-300
]

function value (r, depth) {
  const kind = r.int(depth > 3 ? 4 : 7)
  switch (kind) {
    case 0: {
      let s = ''
      const n = r.int(5)
      for (let i = 0; i < n; i++) s += r.pick(STRINGS)
      return s
    }
    case 1: return r.chance(0.5) ? r.pick(NUMBERS) : (r.chance(0.5) ? r.int(2 ** 31) - 2 ** 30 : (r.next() - 0.5) * 10 ** r.int(30))
    case 2: return r.chance(0.5)
    case 3: return null
    case 4:
    case 5: return object(r, depth + 1)
    default: {
      const out = []
      const n = r.int(5)
      for (let i = 0; i < n; i++) out.push(value(r, depth + 1))
      return out
    }
  }
}

function object (r, depth) {
  const entries = []
  const n = r.int(6)
  for (let i = 0; i < n; i++) entries.push([r.chance(0.7) ? r.pick(KEYS) : String(value(r, 9)), value(r, depth)])
  return Object.fromEntries(entries) // own "__proto__" property, not the prototype
}

function randomSession (seed) {
  const r = rng(seed)
  const options = { maxAge: 86400000 + r.int(1000) }
  if (r.chance(0.3)) options.sameSite = r.pick(['lax', 'strict', 'none', true])
  if (r.chance(0.3)) options.secure = r.chance(0.5)
  if (r.chance(0.2)) options.domain = 'example.com'
  if (r.chance(0.2)) options.priority = r.pick(['low', 'medium', 'high'])
  if (r.chance(0.2)) options.partitioned = true
  if (r.chance(0.2)) options.path = '/app'
  const sess = { cookie: JSON.parse(JSON.stringify(new Cookie(options))) }
  const data = object(r, 0)
  for (const key of Object.keys(data)) {
    if (key !== 'cookie') Object.defineProperty(sess, key, { value: data[key], enumerable: true, writable: true, configurable: true })
  }
  return sess
}

// value() and object() also give cookie-session's random data (gen-vectors.js)
module.exports = { randomSession, randomValue: value, randomObject: object }
