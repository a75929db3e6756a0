'use strict'
// The Node answers for the core: each function takes a case's inputs (wire-decoded) and
// returns the answer as it goes into tests/vectors/*.json and back to the fuzz oracle.
// Every answer comes from the real packages pinned in package.json.

const cookie = require('cookie')
const signature = require('cookie-signature')
const session = require('express-session')

function parse ({ header }) {
  // JSON.stringify drops nothing here: every value cookie.parse returns is a string
  return { result: cookie.parse(header) }
}

const OPTION_NAMES = {
  max_age: 'maxAge',
  expires: 'expires',
  domain: 'domain',
  path: 'path',
  http_only: 'httpOnly',
  secure: 'secure',
  partitioned: 'partitioned',
  priority: 'priority',
  same_site: 'sameSite'
}

function serialize ({ name, value, options }) {
  // options arrive with the Python keyword names, so one case drives both sides
  const opt = {}
  for (const key of Object.keys(options || {})) opt[OPTION_NAMES[key]] = options[key]
  try {
    return { result: cookie.serialize(name, value, options ? opt : undefined) }
  } catch (err) {
    return { error: err.message }
  }
}

function sign ({ value, secret }) {
  return { result: signature.sign(value, secret) }
}

// express-session's unsigncookie(): each secret in turn, the first match wins
function unsign ({ signed, secrets }) {
  for (const secret of secrets) {
    const result = signature.unsign(signed, secret)
    if (result !== false) return { result }
  }
  return { result: null }
}

// The id express-session itself looks up: run the real middleware on a request with this
// Cookie header and record what it asks the store for (it asks nothing when getcookie
// found no valid id, and generates a new session instead).
class RecordingStore extends session.Store {
  get (sid, callback) {
    this.asked = sid
    callback(null, null)
  }

  set (sid, sess, callback) { callback(null) }
  destroy (sid, callback) { callback(null) }
}

const middlewares = new Map()

function getcookie ({ header, name, secrets }) {
  const key = JSON.stringify([name, secrets.map((s) => Buffer.isBuffer(s) ? { b: s.toString('hex') } : s)])
  let entry = middlewares.get(key)
  if (!entry) {
    const store = new RecordingStore()
    const middleware = session({ name, secret: secrets, store, resave: false, saveUninitialized: false })
    entry = { store, middleware }
    middlewares.set(key, entry)
  }
  entry.store.asked = null
  const req = { headers: header === null ? {} : { cookie: header }, url: '/', originalUrl: '/' }
  const res = { writeHead () {}, end () {}, getHeader () {}, setHeader () {} }
  let done = false
  try {
    entry.middleware(req, res, (err) => { if (err) throw err; done = true })
  } catch (err) {
    // e.g. a cookie name that is an Object.prototype property (constructor, toString,
    // __proto__): cookie.parse's result inherits it, and getcookie calls .substr on it
    return { error: err.message }
  }
  if (!done) throw new Error('express-session did not finish synchronously')
  return { result: entry.store.asked }
}

module.exports = { parse, serialize, sign, unsign, getcookie }

// ---- JSON and express-session's Cookie, for jsjson and session.py ---------------------------

// JSON.stringify(JSON.parse(text)): what Node writes back for what it reads
function json ({ text }) {
  try {
    return { result: JSON.stringify(JSON.parse(text)) }
  } catch (err) {
    return { error: err.name }
  }
}

const COOKIE_OPTIONS = {
  max_age: 'maxAge',
  expires: 'expires',
  path: 'path',
  http_only: 'httpOnly',
  domain: 'domain',
  secure: 'secure',
  same_site: 'sameSite',
  partitioned: 'partitioned',
  priority: 'priority'
}

// express-session's Cookie driven through steps with Date.now() pinned to each step's `now`;
// after each step: its JSON, its maxAge, and the Set-Cookie it serializes to (or the error)
function expressCookie ({ options, now, steps }) {
  const realNow = Date.now
  try {
    Date.now = () => now
    const opt = {}
    for (const key of Object.keys(options)) opt[COOKIE_OPTIONS[key]] = options[key]
    const c = new session.Cookie(opt)
    const snapshots = [snapshot(c)]
    for (const step of steps) {
      Date.now = () => step.now
      if (step.op === 'touch') c.maxAge = c.originalMaxAge // Session.prototype.resetMaxAge
      else if (step.op === 'maxAge') c.maxAge = step.value
      else if (step.op === 'expires') c.expires = step.value === null ? null : new Date(step.value)
      snapshots.push(snapshot(c))
    }
    return { result: snapshots }
  } finally {
    Date.now = realNow
  }
}

function snapshot (c) {
  let serialized
  try {
    serialized = { result: c.serialize('connect.sid', 's:abc.def') }
  } catch (err) {
    serialized = { error: err.message }
  }
  return { json: JSON.stringify(c), maxAge: c.maxAge, serialize: serialized }
}

module.exports.json = json
module.exports.cookie = expressCookie
