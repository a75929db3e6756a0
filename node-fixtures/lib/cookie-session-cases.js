'use strict'
// The cases of tests/vectors/cookie_session_{load,write,base64}.json (gen-vectors.js): hand
// cases for every quirk found in cookie-session 2.1.1, cookies 0.9.1, keygrip 1.1.0 and Node's
// Buffer, then random ones. Cases use the Python keyword names (lib/answers.js maps them).

const Keygrip = require('keygrip')
const wire = require('./wire')
const { rng, header, text, mutate } = require('./random')
const { randomObject, randomValue } = require('./random-session')

const NOW = 1795628562841
const KEYS = ['keyboard cat', 'new key', 'old key', '', 'é😀', 'a\ud800b', 'k'.repeat(100)]
// names with dots and regex-special characters (cookies escapes them in its pattern)
const NAMES = ['session', 'session', 'session', 'sess', 'my.session', 'a+b', 'x(y)', 's[1]', '^$', 'a|b', 'a\\b', 'a*?', 'a{2}', 'é', 'my session', 'se-ss', 's.sig']
// reserved by cookie-session's Session (never data) and other awkward keys
const AWKWARD_KEYS = ['isNew', 'isChanged', 'isPopulated', '_ctx', '__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'toLocaleString', '__defineGetter__', '2', '10', '01', 'user']

const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64')
const b64 = (textValue) => Buffer.from(textValue).toString('base64')
const sign = (data, key) => new Keygrip([key]).sign(data)

function base (extra) {
  return { keys: ['new key', 'old key'], name: 'session', signed: true, options: {}, https: false, now: NOW, ...extra }
}

function pair (name, value, key, sigName = name) {
  return `${name}=${value}; ${name}.sig=${sign(sigName + '=' + value, key)}`
}

function randomKey (r) {
  if (r.chance(0.1)) {
    const bytes = Buffer.alloc(r.int(40))
    for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256)
    return bytes
  }
  return r.chance(0.7) ? r.pick(KEYS) : text(r, 4)
}

function randomData (r) {
  const data = randomObject(r, 1)
  if (r.chance(0.2)) Object.defineProperty(data, r.pick(AWKWARD_KEYS), { value: randomValue(r, 3), enumerable: true, writable: true, configurable: true })
  return data
}

// valid cookie-session options (each one that Node would refuse is a hand case of the write op)
function randomOptions (r) {
  const o = {}
  if (r.chance(0.3)) o.max_age = r.pick([60000, 86400000, 1, -1000, 1.5, 0, 999.999, 1e16, -1e16, 2 ** 40])
  if (r.chance(0.15)) o.expires = { $date: r.pick([0, NOW + 5000, 253402300799999, -62135596800000]) }
  if (r.chance(0.2)) o.path = r.pick(['/', '/app', '', '/a b', '/é', { $undefined: true }])
  if (r.chance(0.2)) o.domain = r.pick(['example.com', '.example.com', 'localhost', '', 'é.com'])
  if (r.chance(0.2)) o.same_site = r.pick([true, false, 'lax', 'Strict', 'NONE', ''])
  if (r.chance(0.2)) o.secure = r.pick([true, false, { $undefined: true }])
  if (r.chance(0.15)) o.http_only = r.chance(0.5)
  if (r.chance(0.1)) o.partitioned = r.chance(0.5)
  if (r.chance(0.15)) o.priority = r.pick(['low', 'Medium', 'HIGH', ''])
  if (r.chance(0.15)) o.overwrite = r.chance(0.5)
  return o
}

// the ways a body goes wrong, or merely is not the spelling cookie-session writes
function randomBody (r) {
  const data = randomData(r)
  switch (r.int(12)) {
    case 0: return b64(JSON.stringify(data, null, r.pick([1, '\t']))) // whitespace: rewritten
    case 1: return encode(randomValue(r, 2)) // JSON, maybe not an object
    case 2: return b64(text(r, 6)) // not JSON
    case 3: return encode(data).replace(/\+/g, '-').replace(/\//g, '_') // base64url
    case 4: return encode(data).replace(/=+$/, '') // padding dropped
    case 5: { // junk or whitespace inside
      const v = encode(data)
      const i = r.int(v.length + 1)
      return v.slice(0, i) + r.pick([' ', '\t', '!', '.', '=', '==', '%3D', '\u0141', '\u00c4', '*']) + v.slice(i)
    }
    case 6: return header(r, 8) // anything
    case 7: return b64('\ufeff' + JSON.stringify(data)) // a BOM: JSON.parse refuses it
    case 8: { // invalid UTF-8 inside a string: U+FFFD
      const json = Buffer.from(JSON.stringify({ a: 'x' }))
      return Buffer.concat([json.subarray(0, 6), Buffer.from([r.pick([0x80, 0xc3, 0xed, 0xff, 0xf0])]), json.subarray(6)]).toString('base64')
    }
    default: return encode(data)
  }
}

function loadCases (seed, count) {
  const cases = []
  const good = encode({ user: 'ada', n: 1 })
  const add = (c) => cases.push(base(c))
  // absent, unsigned, verified, rotated, forged
  for (const h of [null, '', ';', 'session', 'session=', 'session.sig=abc', 'theme=dark']) add({ header: h })
  add({ header: pair('session', good, 'new key') })
  add({ header: pair('session', good, 'old key') }) // rotated: the .sig re-signed
  add({ header: pair('session', good, 'old key'), https: true }) // ...with secure
  add({ header: pair('session', good, 'old key'), options: { max_age: 60000, domain: 'example.com', same_site: 'lax' } }) // none of them on the re-signed .sig
  add({ header: pair('session', good, 'other key') }) // forged: the .sig cleared
  add({ header: pair('session', good, 'other key'), https: true, options: { domain: 'example.com' } })
  add({ header: `session=${good}` }) // unsigned
  add({ header: `session=${good}; session.sig=` })
  add({ header: `session=${good}; session.sig=""` })
  add({ header: `session=${good}; session.sig=${sign('session=' + good, 'new key')}=` })
  add({ header: `session=${good}; session.sig=${sign('session=' + good, 'new key').toLowerCase()}` })
  add({ header: `session="${good}"; session.sig=${sign('session=' + good, 'new key')}` }) // quotes stripped before signing
  add({ header: `session="${good}"; session.sig="${sign('session=' + good, 'new key')}"` })
  add({ header: `session="${good}; session.sig=${sign('session="' + good, 'new key')}` }) // a lone quote: the last character goes
  add({ header: `session=${good} ; session.sig=${sign('session=' + good + ' ', 'new key')}` }) // trailing space is the value's
  add({ header: ` session=${good};  session.sig=${sign('session=' + good, 'new key')}` })
  add({ header: `\tsession=${good}; session.sig=${sign('session=' + good, 'new key')}` }) // tab: no match
  add({ header: `xsession=${good}; session.sig=${sign('session=' + good, 'new key')}` })
  add({ header: `session.sig=${sign('session=' + good, 'new key')}; session=${good}` })
  add({ header: `session=bad; ${pair('session', good, 'new key')}` }) // the first wins
  add({ header: `${pair('session', good, 'new key')}; session=bad` })
  add({ header: `session=${good}; session.sig=bad; session.sig=${sign('session=' + good, 'new key')}` })
  add({ header: `Session=${good}; Session.sig=${sign('Session=' + good, 'new key')}` })
  add({ header: pair('session', good, 'new key', 'other') }) // signed for another name
  add({ header: pair('session', good, '\ufffd'), keys: ['\ud800'] }) // lone surrogate key = U+FFFD
  add({ header: pair('session', good, 'new key'), keys: [{ $buffer: Buffer.from('new key').toString('base64') }] })
  add({ header: `other=1; ${pair('other', good, 'new key')}` }) // another name: absent
  add({ header: pair('session', '', 'new key') }) // empty value, valid .sig: a new session
  add({ header: pair('session', '', 'old key') }) // ...still re-signed
  // the body: base64 and JSON as Node reads them; non-canonical spellings are rewritten
  const bodies = [
    encode({}), encode({ a: 1 }), encode([1, 2]), encode('ab😀'), encode('\ud800'), encode(5), encode(0),
    encode(null), encode(true), encode(false), encode(''), encode(1e21), encode({ b: 1, 2: 2, 1: 1, a: 0 }),
    b64('{"a":1,"a":2,"b":3}'), b64('{ "a" : 1 }'), b64('{"a":"\\u0041"}'), b64('{"a":1.0}'), b64('{"a":1e400}'),
    b64('{"a":"\\ud800"}'), b64('{"__proto__":{"x":1},"y":2}'),
    encode(Object.fromEntries(AWKWARD_KEYS.map((k, i) => [k, i]))),
    b64('{"a":1}x'), b64('{"a":NaN}'), b64("{'a':1}"), b64(''), b64('\ufeff{}'), b64('{"a":"\t"}'),
    'e30', 'e30==', 'e30=x', 'e3 0=', 'e\u01330=', '=e30=', 'e30%3D', 'eyJhIjoxfQ', 'eyJhIjox-Q', 'eyJhIjox_Q',
    '!!!!', '====', 'e', 'e3', 'Zm9v', 'eyJ\u0141IjoxfQ==', '\u00ffe30=', 'eyJhIjoxfQ==eyJhIjoxfQ==',
    encode({ s: '\u2028\u2029</script>', n: -0, big: 2 ** 64, tiny: 5e-324 }),
    encode({ deep: JSON.parse('['.repeat(300) + ']'.repeat(300)) }),
    b64('{"deep":' + '['.repeat(1200) + ']'.repeat(1200) + '}'),
    b64('{"deep":' + '{"a":'.repeat(450) + '1' + '}'.repeat(450) + '}'),
    encode({ long: 'x'.repeat(2900) }),
    encode('x'.repeat(100)) // a string body rewritten as {"0":"x",...}
  ]
  for (const body of bodies) {
    add({ header: pair('session', body, 'new key') })
    add({ header: pair('session', body, 'old key'), options: { max_age: 1000 } })
  }
  add({ header: pair('session', b64('{ }'), 'new key'), options: { secure: true } }) // rewrite refused
  add({ header: pair('session', b64('{ }'), 'new key'), options: { secure: true }, https: true })
  add({ header: pair('session', b64('{ }'), 'new key'), options: { overwrite: false, max_age: 5 } })
  add({ header: pair('session', encode('x'.repeat(400)), 'new key') }) // its rewrite is too long for a browser
  // names with dots and regex characters, and their look-alikes
  for (const name of NAMES) {
    add({ name, header: pair(name, good, 'new key') })
    add({ name, header: `${name.replace(/[^a-z]/, 'X')}=bad; ` + pair(name, good, 'old key') })
  }
  add({ name: 'a.b', header: `aXb=${good}; a.b.sig=${sign('a.b=' + good, 'new key')}` })
  add({ name: 'a+b', header: `aab=${good}; ` + pair('a+b', good, 'new key') })
  // unsigned mode: no .sig read or written, keys or not
  for (const h of [`session=${good}`, pair('session', good, 'x'), `session=${b64('{ }')}`, 'session=', `session=${encode([1])}`]) {
    add({ header: h, signed: false })
    add({ header: h, signed: false, keys: null, options: { max_age: 1000 } })
  }
  // refused by Python for its length before any HMAC; Node reads them (marked: a documented
  // difference)
  const big = encode({ long: 'x'.repeat(4000) })
  add({ header: pair('session', big, 'new key'), oversized: true })
  add({ header: 'a=' + 'x'.repeat(16400) + '; ' + pair('session', good, 'new key'), oversized: true })

  const r = rng(seed)
  for (let i = 0; i < count; i++) {
    const name = r.pick(NAMES)
    const keys = []
    const n = 1 + r.int(3)
    for (let j = 0; j < n; j++) keys.push(randomKey(r))
    const signed = r.chance(0.92)
    let value = randomBody(r)
    if (value.length > 4000) value = value.slice(0, 4000)
    const signer = r.chance(0.5) ? keys[0] : (r.chance(0.6) ? r.pick(keys) : randomKey(r))
    const sigName = r.chance(0.95) ? name : r.pick(NAMES)
    let sig = sign(sigName + '=' + value, signer)
    switch (r.int(10)) {
      case 0: sig = mutate(r, sig); break
      case 1: { const k = r.int(value.length + 1); value = value.slice(0, k) + (value[k] === 'A' ? 'B' : 'A') + value.slice(k + 1); break }
      case 2: sig = null; break
      case 3: sig = ''; break
    }
    if (r.chance(0.05)) value = '"' + value + '"'
    if (sig !== null && r.chance(0.05)) sig = '"' + sig + '"'
    const parts = [`${name}=${value}`]
    if (sig !== null) parts.splice(r.chance(0.85) ? 1 : 0, 0, `${name}.sig=${sig}`)
    const others = r.int(4)
    for (let j = 0; j < others; j++) {
      const other = r.chance(0.15)
        ? r.pick([`${name}=${header(r, 3)}`, `${name}.sig=${header(r, 2)}`]) // a duplicate
        : r.pick(['theme=dark', 'lang=en', `x${name}=1`, `${name}x=1`, header(r, 3)])
      parts.splice(r.int(parts.length + 1), 0, other)
    }
    const h = parts.join(r.chance(0.05) ? ' ; ' : r.pick(['; ', ';', ';  ']))
    cases.push({ keys: keys.map(wire.encode), name, signed, options: r.chance(0.3) ? randomOptions(r) : {}, https: r.chance(0.2), now: NOW + r.int(1e9), header: h })
  }
  return cases
}

function writeCases (seed, count) {
  const cases = []
  const add = (c) => cases.push(base(c))
  const data = { user: 'ada', n: 1 }
  add({ header: null, action: 'assign', data })
  add({ header: null, action: 'assign', data: {} }) // nothing written
  add({ header: null, action: 'assign', data: Object.fromEntries(AWKWARD_KEYS.map((k, i) => [k, i])) })
  add({ header: null, action: 'assign', data: { isNew: 1, toString: 2 } }) // all dropped: nothing
  add({ header: null, action: 'clear' })
  add({ header: null, action: 'clear', https: true, options: { max_age: 60000, domain: 'example.com', same_site: true, priority: 'high', partitioned: true } })
  add({ header: null, action: 'assign', data, https: true })
  add({ header: null, action: 'assign', data, options: { secure: true } }) // http: Node writes nothing
  add({ header: null, action: 'clear', options: { secure: true } })
  add({ header: null, action: 'assign', data, options: { secure: true }, https: true })
  add({ header: null, action: 'assign', data, options: { secure: false }, https: true })
  add({ header: null, action: 'assign', data, options: { http_only: false, path: '/app', overwrite: false } })
  add({ header: null, action: 'assign', data, options: { max_age: 60000, expires: { $date: 0 } } }) // maxAge wins
  add({ header: null, action: 'assign', data, options: { expires: { $date: NOW + 1500 } } })
  add({ header: null, action: 'assign', data, options: { max_age: 1e16 } }) // expires=Invalid Date
  add({ header: null, action: 'assign', data, options: { max_age: -(NOW + 1) } })
  add({ header: null, action: 'assign', data, options: { max_age: 0.4 } })
  add({ header: null, action: 'assign', data, signed: false, keys: null })
  add({ header: null, action: 'assign', data: { long: 'x'.repeat(3100) } }) // too long for a browser
  add({ header: null, action: 'assign', data: { long: 'x'.repeat(3000) } })
  for (const name of NAMES) add({ name, header: null, action: 'assign', data })
  // options Node refuses when it writes (cookie-session swallows the error, writes nothing)
  const bad = [{ same_site: 'bogus' }, { priority: 'urgent' }, { path: '/a;\n' }, { domain: 'a\nb' }, { max_age: { $number: 'NaN' } }, { max_age: { $number: 'Infinity' } }, { same_site: 'ſtrict' }]
  for (const options of bad) add({ header: null, action: 'assign', data, options })
  add({ name: 'a;b', header: null, action: 'assign', data })
  add({ name: 'a=b', header: null, action: 'clear' })
  add({ name: '😀', header: null, action: 'assign', data })
  // read, then changed in place
  const good = encode(data)
  for (const key of ['new key', 'old key', 'other key']) {
    const h = pair('session', good, key)
    add({ header: h, action: 'mutate', data }) // unchanged
    add({ header: h, action: 'mutate', data: { user: 'ada', n: 2 } })
    add({ header: h, action: 'mutate', data: {} }) // emptied: e30= is written
    add({ header: h, action: 'mutate', data: null }) // req.session = null after reading
    add({ header: h, action: 'mutate', data: { n: 2 }, options: { overwrite: false } })
    add({ header: h, action: 'mutate', data: { n: 2 }, options: { secure: true } })
  }
  add({ header: pair('session', b64('{ "user":"ada","n":1 }'), 'new key'), action: 'mutate', data }) // rewritten
  add({ header: pair('session', encode([1, 2]), 'new key'), action: 'mutate', data: { 0: 1, 1: 2 } })

  const r = rng(seed)
  for (let i = 0; i < count; i++) {
    const name = r.pick(NAMES)
    const keys = []
    const n = 1 + r.int(3)
    for (let j = 0; j < n; j++) keys.push(randomKey(r))
    const signed = r.chance(0.9)
    const action = r.pick(['assign', 'assign', 'assign', 'clear', 'mutate', 'mutate'])
    const c = { keys: keys.map(wire.encode), name, signed, options: randomOptions(r), https: r.chance(0.3), now: NOW + r.int(1e9), header: null, action }
    if (action === 'assign') c.data = wire.encode(randomData(r))
    if (action === 'mutate') {
      const loaded = randomData(r)
      const signer = r.chance(0.5) ? keys[0] : (r.chance(0.7) ? r.pick(keys) : randomKey(r))
      const body = r.chance(0.8) ? encode(loaded) : randomBody(r)
      c.header = signed ? pair(name, body, signer) : `${name}=${body}`
      if (r.chance(0.1)) c.data = null
      else if (r.chance(0.3)) c.data = wire.encode(loaded)
      else {
        const changed = { ...loaded }
        for (const k of Object.keys(changed)) if (r.chance(0.3)) delete changed[k]
        if (r.chance(0.7)) Object.defineProperty(changed, r.chance(0.8) ? text(r, 2) : r.pick(AWKWARD_KEYS), { value: randomValue(r, 2), enumerable: true, writable: true, configurable: true })
        c.data = wire.encode(changed)
      }
    }
    cases.push(c)
  }
  return cases
}

function base64Cases (seed, count) {
  const texts = [
    '', 'Q', 'QQ', 'QQ=', 'QQ==', 'QQ===', 'QUI', 'QUJD', 'QUJD=', 'QUJDRA', 'QUJDR', 'QUJDRAx', 'Q=Q=',
    'QU=JD', 'QU JD', 'Q\nUJD', 'QU*JD', 'QU-_', 'QU+/', 'QUJD!!!', '!!!!QUJD', 'QUJDRA==QUJD', '=QUJD',
    'QR', 'QR==', 'Q\u0141JD', 'Q\u0100JD', 'QUJ\u00c4', 'QUJD\u0000', 'QU==JD', 'QUJ=D', 'Q===', 'QQ=x',
    '====', 'QUJD  ==', '\u013dQUJD', 'QU\u013dJD', 'QUJD\u013d', 'QUJD\u013d\u013d', 'QU😀JD', 'QUJD😀',
    '\ud800QUJD', 'QUJD\udc3d', '/w==', '_w', '+/+/', '-_-_', 'AAAA'.repeat(30) + '!', '!' + 'AAAA'.repeat(30),
    '8J+YgA==', '7aCA', '7aCAQQ==', 'wA==', '/w', 'gA', '4oI=', '4oKs', '8J+Y'
  ]
  const cases = texts.map((t) => ({ text: t }))
  const r = rng(seed)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_'
  const junk = ['=', '==', ' ', '\t', '\n', '!', '.', '%', '\u0141', '\u013d', '\u0100', '\u00ff', '\u00c4', '😀', '\ud800', '\u0000', '*', '"']
  for (let i = 0; i < count; i++) {
    let t = ''
    const n = r.int(40)
    for (let j = 0; j < n; j++) t += r.chance(0.85) ? alphabet[r.int(alphabet.length)] : r.pick(junk)
    if (r.chance(0.2)) {
      const bytes = Buffer.alloc(r.int(30))
      for (let j = 0; j < bytes.length; j++) bytes[j] = r.int(256)
      t = bytes.toString('base64')
      if (r.chance(0.5)) t = t.replace(/=+$/, '')
    }
    cases.push({ text: t })
  }
  return cases
}

module.exports = { loadCases, writeCases, base64Cases, NOW }
