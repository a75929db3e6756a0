'use strict'
// Writes tests/vectors/*.json (one file per op of lib/answers.js) from the real Node
// packages. Deterministic: the same packages and seed give the same bytes, which
// tests/test_vectors.py checks by running this script again.
//
//   node gen-vectors.js [--out DIR]

const fs = require('fs')
const path = require('path')
const answers = require('./lib/answers')
const wire = require('./lib/wire')
const { rng, header, text, uid, mutate } = require('./lib/random')
const signature = require('cookie-signature')

const SEED = 20261125
const RANDOM_CASES = 3000

function versions () {
  const lock = require('./package-lock.json')
  const v = (name) => lock.packages['node_modules/' + name].version
  return {
    cookie: v('cookie'),
    'cookie-signature': v('cookie-signature'),
    'express-session': v('express-session'),
    'cookie-session': v('cookie-session'),
    cookies: v('cookies'),
    keygrip: v('keygrip'),
    node: process.version.split('.')[0]
  }
}

// ---- parse -------------------------------------------------------------------------------
function parseCases () {
  const hand = [
    '', 'a', '=', 'a=', '=b', 'a=b', ' a = b ', '\ta\t=\tb\t', '\u00a0a=b\u00a0', 'a = "b"', 'a="', 'a=""', 'a="b', 'a=b"',
    'a=" b "', 'a=1; a=2', 'a=1;a=2;b=3', 'a;b=1', ';a=1', 'a=1;', 'a=1;;b=2', 'a=1; b; c=3', 'x;y;z=1;w',
    'a=%', 'a=%2', 'a=%zz', 'a=%41', 'a=%41%', 'a=%C3%A9', 'a=%c3%a9', 'a=%E2%82%AC', 'a=%E2%82', 'a=%ED%A0%80',
    'a=%C0%AF', 'a=%F4%90%80%80', 'a=%F0%9F%98%80', 'a=%FF', 'a=%80', 'a=%C3%28', 'a="%41"', 'a=%22x%22',
    '__proto__=1', '__proto__=1; a=2', 'constructor=1', 'toString=x; hasOwnProperty=y', '0=a; 1=b; a=c',
    'connect.sid=s%3Aabc.def', 'connect.sid="s:abc.def"', 'a==b', 'a=b=c', 'a=\u00e9', 'a=😀', 'a=\ud800',
    'a=1, b=2', 'a\n=1', 'a=1\r\n', 'a=%2541', 'a=+b', 'a=%2B', 'a b=c d', '"a"=b', ' ; = ; ', 'a=1;=2;=3'
  ]
  const r = rng(SEED + 1)
  const headers = hand.slice()
  for (let i = 0; i < RANDOM_CASES; i++) headers.push(header(r, 6 + (i % 20)))
  return headers.map((h) => ({ header: h, ...answers.parse({ header: h }) }))
}

// ---- serialize -----------------------------------------------------------------------------
function serializeCases () {
  const cases = [
    { name: 'a', value: 'b' },
    { name: 'connect.sid', value: 's:abc.def', options: { path: '/', http_only: true } },
    { name: 'a', value: ' ;,"\\é😀' },
    { name: 'a', value: '\ud800' },
    { name: 'a', value: '\ud83d\ude00' },
    { name: 'a b', value: 'c' },
    { name: '', value: 'c' },
    { name: 'a;', value: 'c' },
    { name: 'é', value: 'c' },
    { name: 'a', value: 'b', options: { max_age: 1.9 } },
    { name: 'a', value: 'b', options: { max_age: -0.5 } },
    { name: 'a', value: 'b', options: { max_age: { $number: '-0' } } },
    { name: 'a', value: 'b', options: { max_age: { $number: 'NaN' } } },
    { name: 'a', value: 'b', options: { max_age: { $number: 'Infinity' } } },
    { name: 'a', value: 'b', options: { max_age: 1e21 } },
    { name: 'a', value: 'b', options: { max_age: 1e300 } },
    { name: 'a', value: 'b', options: { max_age: 9007199254740993 } },
    { name: 'a', value: 'b', options: { max_age: 0 } },
    { name: 'a', value: 'b', options: { domain: 'example.com' } },
    { name: 'a', value: 'b', options: { domain: '.example.com' } },
    { name: 'a', value: 'b', options: { domain: 'EXAMPLE.com' } },
    { name: 'a', value: 'b', options: { domain: 'example.com.' } },
    { name: 'a', value: 'b', options: { domain: 'ex_ample.com' } },
    { name: 'a', value: 'b', options: { domain: '\u212aelvin.com' } },
    { name: 'a', value: 'b', options: { domain: 'a.com\n' } },
    { name: 'a', value: 'b', options: { domain: '-a.com' } },
    { name: 'a', value: 'b', options: { domain: 'a'.repeat(63) + '.com' } },
    { name: 'a', value: 'b', options: { domain: 'a'.repeat(64) + '.com' } },
    { name: 'a', value: 'b', options: { domain: '' } },
    { name: 'a', value: 'b', options: { path: '/a b' } },
    { name: 'a', value: 'b', options: { path: '/a;b' } },
    { name: 'a', value: 'b', options: { path: '/a\n' } },
    { name: 'a', value: 'b', options: { path: '/é' } },
    { name: 'a', value: 'b', options: { path: '' } },
    { name: 'a', value: 'b', options: { expires: { $date: 0 } } },
    { name: 'a', value: 'b', options: { expires: { $date: 1795628562841 } } },
    { name: 'a', value: 'b', options: { expires: { $date: -62135596800000 } } },
    { name: 'a', value: 'b', options: { expires: { $date: 253402300799999 } } },
    { name: 'a', value: 'b', options: { http_only: true, secure: true, partitioned: true } },
    { name: 'a', value: 'b', options: { priority: 'low' } },
    { name: 'a', value: 'b', options: { priority: 'MEDIUM' } },
    { name: 'a', value: 'b', options: { priority: 'High' } },
    { name: 'a', value: 'b', options: { priority: 'urgent' } },
    { name: 'a', value: 'b', options: { priority: '' } },
    { name: 'a', value: 'b', options: { same_site: true } },
    { name: 'a', value: 'b', options: { same_site: false } },
    { name: 'a', value: 'b', options: { same_site: 'lax' } },
    { name: 'a', value: 'b', options: { same_site: 'STRICT' } },
    { name: 'a', value: 'b', options: { same_site: 'None' } },
    { name: 'a', value: 'b', options: { same_site: 'auto' } },
    { name: 'a', value: 'b', options: { same_site: '' } },
    { name: 'a', value: 'b', options: { max_age: 60, domain: 'x.org', path: '/p', expires: { $date: 1e12 }, http_only: true, secure: true, partitioned: true, priority: 'high', same_site: 'none' } }
  ]
  const r = rng(SEED + 2)
  const names = ['a', 'connect.sid', 'sid', 'a b', '', 'é', 'x;', "!#$%&'*+-.^_`|~", '"q"', 'A9']
  const domains = ['example.com', '.example.com', 'a-b.c', '-bad.com', 'bad-.com', 'x..y', 'localhost', '127.0.0.1', 'é.com', 'a_b.com', 'A.B.C']
  const paths = ['/', '/a', '/a b', '/a;b', '/%41', '/é', '/\t', '/a=b', '/\x7f']
  const priorities = ['low', 'Low', 'MEDIUM', 'high', 'hi', 'l0w', 'ıow']
  const sameSites = [true, false, 'lax', 'Lax', 'strict', 'NONE', 'none ', 'auto', 'ſtrict']
  const numbers = [0, 1, -1, 0.5, -0.5, 1.5, 59.999, 86400, 1e21, 1e-7, 2 ** 53, 2 ** 53 + 2, -1e21, { $number: 'NaN' }, { $number: '-Infinity' }, { $number: '-0' }]
  for (let i = 0; i < RANDOM_CASES; i++) {
    const c = { name: r.chance(0.7) ? r.pick(names) : text(r, 3), value: text(r, 6) }
    if (r.chance(0.85)) {
      const o = {}
      if (r.chance(0.4)) o.max_age = r.chance(0.5) ? r.pick(numbers) : Math.round((r.next() - 0.3) * 1e6) / (r.chance(0.5) ? 1 : 1000)
      if (r.chance(0.3)) o.domain = r.pick(domains)
      if (r.chance(0.3)) o.path = r.pick(paths)
      if (r.chance(0.3)) o.expires = { $date: Math.floor((r.next() * 2 - 0.5) * 1e14) }
      if (r.chance(0.3)) o.http_only = r.chance(0.5)
      if (r.chance(0.3)) o.secure = r.chance(0.5)
      if (r.chance(0.2)) o.partitioned = r.chance(0.5)
      if (r.chance(0.3)) o.priority = r.pick(priorities)
      if (r.chance(0.3)) o.same_site = r.pick(sameSites)
      c.options = o
    }
    cases.push(c)
  }
  return cases.map((c) => {
    const input = wire.decode(c)
    return { ...c, ...answers.serialize(input) }
  })
}

// ---- sign / unsign / getcookie -----------------------------------------------------------
const SECRETS = ['keyboard cat', 'new secret', 'old secret', '', 'é😀', 'a\ud800b', 'a\ufffdb', 's'.repeat(100)]

function randomSecret (r) {
  if (r.chance(0.15)) {
    const bytes = Buffer.alloc(r.int(80))
    for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256)
    return bytes
  }
  return r.chance(0.5) ? r.pick(SECRETS) : text(r, 6)
}

function signCases () {
  const r = rng(SEED + 3)
  const cases = [
    { value: '', secret: 'keyboard cat' },
    { value: 'abc', secret: '' },
    { value: 'a\ud800', secret: 'x' },
    { value: 'a\ufffd', secret: 'x' },
    { value: 'abc', secret: 'a\ud800b' },
    { value: 'abc', secret: 'a\ufffdb' },
    { value: 'abc', secret: { $buffer: 'AAEC/w==' } },
    { value: 'a.b.c', secret: 'x' }
  ]
  for (let i = 0; i < RANDOM_CASES; i++) {
    cases.push({ value: r.chance(0.5) ? uid(r) : text(r, 8), secret: wire.encode(randomSecret(r)) })
  }
  return cases.map((c) => ({ ...c, ...answers.sign(wire.decode(c)) }))
}

function unsignCases () {
  const r = rng(SEED + 4)
  const cases = []
  const good = signature.sign('abc', 'new secret')
  cases.push({ signed: good, secrets: ['new secret'] })
  cases.push({ signed: good, secrets: ['old secret', 'new secret'] })
  cases.push({ signed: good, secrets: ['old secret'] })
  cases.push({ signed: 'abc', secrets: ['new secret'] })
  cases.push({ signed: '', secrets: ['new secret'] })
  cases.push({ signed: '.', secrets: [''] })
  cases.push({ signed: signature.sign('', 'x'), secrets: ['x'] })
  cases.push({ signed: signature.sign('a\ufffd', 'x').replace('\ufffd', '\ud800'), secrets: ['x'] })
  cases.push({ signed: good + '=', secrets: ['new secret'] })
  for (let i = 0; i < RANDOM_CASES; i++) {
    const secrets = []
    const n = 1 + r.int(3)
    for (let j = 0; j < n; j++) secrets.push(randomSecret(r))
    const value = r.chance(0.6) ? uid(r) : text(r, 8)
    const signer = r.chance(0.8) ? r.pick(secrets) : randomSecret(r)
    const signed = r.chance(0.6) ? mutate(r, signature.sign(value, signer)) : signature.sign(value, signer)
    cases.push({ signed, secrets: secrets.map(wire.encode) })
  }
  return cases.map((c) => ({ ...c, ...answers.unsign(wire.decode(c)) }))
}

function getcookieCases () {
  const r = rng(SEED + 5)
  const cases = []
  const sid = 'Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ'
  const good = 's:' + signature.sign(sid, 'new secret')
  // encodeURIComponent throws on a lone surrogate; such a value goes in raw
  const enc = (s) => { try { return encodeURIComponent(s) } catch (err) { return s } }
  const hand = [
    null, '', 'connect.sid=' + good, 'connect.sid=' + enc(good), 'connect.sid="' + enc(good) + '"',
    'connect.sid=' + sid, 'connect.sid=' + enc('s:' + sid), 'connect.sid=s:', 'connect.sid=s%3A',
    'a=1; connect.sid=' + enc(good) + '; b=2', 'connect.sid=bad; connect.sid=' + enc(good),
    'connect.sid=' + enc(good) + '; connect.sid=bad', ' connect.sid = ' + enc(good) + ' ',
    'Connect.sid=' + enc(good), 'connect.sid=' + enc(good).toLowerCase(),
    'connect.sid=' + enc('s:' + signature.sign('', 'new secret')),
    'connect.sid=' + enc('S:' + signature.sign(sid, 'new secret')),
    'connect.sid=' + enc('s:' + signature.sign(sid, 'old secret')),
    'connect.sid=' + enc('s:' + signature.sign(sid, 'other')),
    'x;connect.sid=' + enc(good), 'connect.sid;x=' + enc(good)
  ]
  for (const h of hand) cases.push({ header: h, name: 'connect.sid', secrets: ['new secret', 'old secret'] })
  const names = ['connect.sid', 'connect.sid', 'connect.sid', 'connect.sid', 'connect.sid', 'sid', 'sid', 'my session', 'é', '__proto__', 'constructor', 'toString']
  for (let i = 0; i < RANDOM_CASES; i++) {
    const name = r.pick(names)
    const secrets = []
    const n = 1 + r.int(3)
    for (let j = 0; j < n; j++) secrets.push(r.chance(0.8) ? r.pick(SECRETS.filter(Boolean)) : randomSecret(r))
    const value = r.chance(0.7) ? uid(r) : text(r, 6)
    const signer = r.chance(0.85) ? r.pick(secrets) : randomSecret(r)
    let cookieValue = (r.chance(0.9) ? 's:' : r.pick(['', 'S:', 's', 's::'])) + signature.sign(value, signer)
    if (r.chance(0.4)) cookieValue = mutate(r, cookieValue)
    const encoded = r.chance(0.7) ? enc(cookieValue) : (r.chance(0.5) ? cookieValue : '"' + enc(cookieValue) + '"')
    const parts = []
    const others = r.int(5)
    for (let j = 0; j < others; j++) parts.push(r.chance(0.7) ? r.pick(['theme', 'lang', '_ga', 'sid', 'connect.sid', name]) + '=' + (r.chance(0.8) ? uid(r).slice(0, 8) : header(r, 3)) : header(r, 4))
    parts.splice(r.int(parts.length + 1), 0, name + '=' + encoded)
    const header_ = parts.join(r.pick(['; ', ';', ' ; ', ';\t']))
    cases.push({ header: header_, name, secrets: secrets.map(wire.encode) })
  }
  return cases.map((c) => ({ ...c, ...answers.getcookie(wire.decode(c)) }))
}

// ---- jsjson: what Node writes, read back and written again by Python -------------------------
function randomDouble (r) {
  // any finite double: random bits, NaN and the infinities skipped
  const buf = Buffer.alloc(8)
  for (;;) {
    for (let i = 0; i < 8; i++) buf[i] = r.int(256)
    const d = buf.readDoubleLE(0)
    if (Number.isFinite(d)) return d
  }
}

function jsonCases () {
  const { randomSession } = require('./lib/random-session')
  const r = rng(SEED + 6)
  const texts = [
    '0', '-0', '1e21', '1e-7', '1E400', '-1e400', '5e-324', '9007199254740993', '18446744073709551616',
    '123456789012345678901234567890', '1.0', '1.5e2', '0.1', '[]', '{}', '""', 'null', 'true',
    '{"a":1,"b":2,"a":3}', '{"__proto__":{"x":1}}', '{"b":1,"2":2,"1":1,"01":0,"4294967295":5,"4294967294":4}',
    '"\\ud800"', '"\\udc00\\ud800"', '"\\ud83d\\ude00"', '"\u2028\u2029"', '"\\u0000\\u001f\\u007f"',
    '"\\/"', '" \\t\\n\\r\\b\\f "', '[1,[2,[3,[4,[5]]]]]', ' { "a" : [ 1 , 2 ] } ',
    'NaN', 'Infinity', '[1,]', "{'a':1}", '"\t"', '01', '.5', '1.', '+1', '\ufeff{}', '[1] x', '',
    // deeper than Python's recursion limit (V8's JSON.parse has none; its stringify overflows its
    // stack near 5000 levels, depending on the stack: not pinned)
    '['.repeat(3000) + ']'.repeat(3000), '{"a":'.repeat(3000) + '[1,{"b":null}]' + '}'.repeat(3000),
    '['.repeat(3000) + ']'.repeat(2999), '{"a":'.repeat(3000) + '1' + '}'.repeat(2999) + ',}'
  ]
  const cases = texts.map((text) => ({ text }))
  for (let i = 0; i < 1500; i++) cases.push({ text: JSON.stringify(randomDouble(r)) })
  const realNow = Date.now
  Date.now = () => 1795628562841 // the sessions' cookies expire relative to now: pin it
  try {
    for (let i = 0; i < 1500; i++) cases.push({ text: JSON.stringify(randomSession(SEED + i)) })
  } finally {
    Date.now = realNow
  }
  return cases.map((c) => ({ ...c, ...answers.json(c) }))
}

// ---- express-session's Cookie ------------------------------------------------------------
function cookieCases () {
  const r = rng(SEED + 7)
  const NOW = 1795628562841
  const cases = [
    { options: {}, now: NOW, steps: [] },
    { options: { max_age: 60000 }, now: NOW, steps: [{ op: 'touch', now: NOW + 1000 }] },
    { options: { max_age: 1500.7 }, now: NOW, steps: [{ op: 'touch', now: NOW + 1 }] },
    { options: { max_age: -1 }, now: NOW, steps: [] },
    { options: { max_age: 0 }, now: NOW, steps: [{ op: 'touch', now: NOW }] },
    { options: { expires: { $date: NOW + 5000 } }, now: NOW, steps: [{ op: 'touch', now: NOW + 2000 }] },
    { options: {}, now: NOW, steps: [{ op: 'maxAge', value: 1000, now: NOW }, { op: 'maxAge', value: null, now: NOW + 5 }] },
    { options: { max_age: 60000 }, now: NOW, steps: [{ op: 'expires', value: null, now: NOW + 5 }, { op: 'touch', now: NOW + 6 }] },
    { options: { path: { $undefined: true }, http_only: { $undefined: true } }, now: NOW, steps: [] },
    { options: { same_site: true, secure: true, domain: 'example.com', priority: 'High', partitioned: true }, now: NOW, steps: [] },
    { options: { domain: 'bad domain' }, now: NOW, steps: [] },
    { options: { same_site: 'auto' }, now: NOW, steps: [] },
    { options: { max_age: 8.64e15 }, now: NOW, steps: [] }
  ]
  const sameSites = [true, false, 'lax', 'strict', 'none', 'Lax']
  for (let i = 0; i < RANDOM_CASES; i++) {
    const options = {}
    if (r.chance(0.6)) options.max_age = r.chance(0.8) ? r.int(1e9) : (r.next() - 0.2) * 1e7
    else if (r.chance(0.3)) options.expires = { $date: NOW + r.int(1e9) - 1e8 }
    if (r.chance(0.2)) options.path = r.pick(['/', '/app', '/a b', { $undefined: true }])
    if (r.chance(0.2)) options.http_only = r.pick([true, false, { $undefined: true }])
    if (r.chance(0.2)) options.domain = r.pick(['example.com', '.example.com', 'localhost'])
    if (r.chance(0.2)) options.secure = r.chance(0.5)
    if (r.chance(0.3)) options.same_site = r.pick(sameSites)
    if (r.chance(0.1)) options.partitioned = r.chance(0.5)
    if (r.chance(0.2)) options.priority = r.pick(['low', 'medium', 'high', 'High'])
    const steps = []
    let now = NOW
    const n = r.int(4)
    for (let j = 0; j < n; j++) {
      now += r.int(100000)
      const kind = r.int(3)
      if (kind === 0) steps.push({ op: 'touch', now })
      else if (kind === 1) steps.push({ op: 'maxAge', value: r.chance(0.8) ? r.int(1e8) : null, now })
      else steps.push({ op: 'expires', value: r.chance(0.8) ? now + r.int(1e8) - 1e6 : null, now })
    }
    cases.push({ options, now: NOW, steps })
  }
  return cases.map((c) => ({ ...c, ...answers.cookie(wire.decode(c)) }))
}

// ---- cookie-session (lib/cookie-session-cases.js) ------------------------------------------
function cookieSessionCases (op, make, seed) {
  return make(seed, RANDOM_CASES).map((c) => ({ ...c, ...answers[op](wire.decode(c)) }))
}

// ---- output ------------------------------------------------------------------------------
function write (dir, file, description, cases) {
  const meta = { description, generator: 'node-fixtures/gen-vectors.js', seed: SEED, versions: versions() }
  const body = '{"meta": ' + JSON.stringify(meta) + ',\n"cases": [\n' + cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n'
  fs.writeFileSync(path.join(dir, file), body)
}

function main () {
  const i = process.argv.indexOf('--out')
  const dir = i === -1 ? path.join(__dirname, '..', 'tests', 'vectors') : process.argv[i + 1]
  fs.mkdirSync(dir, { recursive: true })
  write(dir, 'parse.json', 'cookie.parse(header) -> result', parseCases())
  write(dir, 'serialize.json', 'cookie.serialize(name, value, options) -> result | error (options use the Python keyword names)', serializeCases())
  write(dir, 'sign.json', 'cookie-signature.sign(value, secret) -> result', signCases())
  write(dir, 'unsign.json', "express-session's unsigncookie(signed, secrets): cookie-signature.unsign with each secret in turn -> result | null", unsignCases())
  write(dir, 'json.json', 'JSON.stringify(JSON.parse(text)) -> result | error (the error name)', jsonCases())
  write(dir, 'cookie.json', "express-session's Cookie: new Cookie(options) at now, then steps (touch = resetMaxAge, maxAge =, expires =) each at its now -> a snapshot {json, maxAge, serialize} after each", cookieCases())
  const cs = require('./lib/cookie-session-cases')
  write(dir, 'cookie_session_load.json', 'the real cookie-session middleware on a request with this Cookie header (keys, name, signed, options; https: an encrypted socket; now: Date.now()), whose handler reads req.session and leaves it: {session: JSON.stringify(req.session) | null for a new one, set_cookie: the Set-Cookie values sent, set_error: what cookies.set threw and cookie-session swallowed}. oversized: refused by Python before any HMAC (Node reads it)', cookieSessionCases('cookie_session_load', cs.loadCases, SEED + 8))
  write(dir, 'cookie_session_write.json', 'the real cookie-session middleware when the handler assigns req.session = data (assign), sets it to null (clear), or reads it and changes it in place to hold data, null: sets it to null after reading (mutate): {set_cookie, set_error} as for cookie_session_load', cookieSessionCases('cookie_session_write', cs.writeCases, SEED + 9))
  write(dir, 'cookie_session_base64.json', "cookie-session's decode() input: Buffer.from(text, 'base64') -> {hex, utf8: its toString('utf8')}", cs.base64Cases(SEED + 10, RANDOM_CASES).map((c) => ({ ...c, ...answers.cookie_session_base64(c) })))
  write(dir, 'getcookie.json', 'the session id the express-session middleware looks up in its store for a request with this Cookie header (null: none, a new session is generated)', getcookieCases())
}

main()
