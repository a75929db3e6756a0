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

// cookie options arrive with the Python keyword names, so one case drives both sides
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

function nodeOptions (options) {
  const opt = {}
  for (const key of Object.keys(options)) opt[OPTION_NAMES[key]] = options[key]
  return opt
}

function serialize ({ name, value, options }) {
  try {
    return { result: cookie.serialize(name, value, options ? nodeOptions(options) : undefined) }
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

// express-session's Cookie driven through steps with Date.now() pinned to each step's `now`;
// after each step: its JSON, its maxAge, and the Set-Cookie it serializes to (or the error)
function expressCookie ({ options, now, steps }) {
  const realNow = Date.now
  try {
    Date.now = () => now
    const c = new session.Cookie(nodeOptions(options))
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

// ---- session-file-store 1.5.0's helpers and its kruptein 2.2.3, for the file store tests ----

const fileHelpers = () => require('session-file-store/lib/session-file-helpers')

// helpers.isExpired(session, {ttl}) with the clock it reads (`new Date().getTime()`) at `now`
function fileIsExpired ({ session: stored, ttl, now }) {
  const RealDate = Date
  global.Date = class extends RealDate {
    constructor (...args) { if (args.length) super(...args); else super(now) }
  }
  try {
    return { result: fileHelpers().isExpired(stored, { ttl }) }
  } finally {
    global.Date = RealDate
  }
}

// the id of a session file, and whether the store lists the file (filePattern, a RegExp
// built from the extension)
function fileSessionId ({ file, ext }) {
  const helpers = fileHelpers()
  const options = { fileExtension: ext, filePattern: helpers.getFilePatternFromFileExtension(ext) }
  return { result: { id: helpers.sessionId(options, file), listed: !!options.filePattern.exec(file) } }
}

// kruptein configured as session-file-store configures it. `random` (hex strings) replaces
// crypto.randomBytes for one call, in the order kruptein asks: salt, IV, AAD key. The answer
// is the callback's {result} or {error}; get() calls it twice when decryption fails (the error,
// then (null, undefined)): then {calls: [each call's answer, in order]}
let krupteinInstance = null

function kruptein (method, { secret, text, random }) {
  const crypto = require('crypto')
  krupteinInstance = krupteinInstance ||
    require('kruptein')({ algorithm: 'aes-256-gcm', hashing: 'sha512', use_scrypt: true })
  const realRandom = crypto.randomBytes
  if (random) {
    const queue = random.map((hex) => Buffer.from(hex, 'hex'))
    crypto.randomBytes = (n) => {
      const next = queue.shift()
      if (next.length !== n) throw new Error('asked for ' + n + ' random bytes')
      return next
    }
  }
  try {
    const calls = []
    krupteinInstance[method](secret, text, (err, result) => calls.push(err ? { error: String(err) } : { result }))
    return calls.length === 1 ? calls[0] : { calls }
  } finally {
    crypto.randomBytes = realRandom
  }
}

module.exports.fileIsExpired = fileIsExpired
module.exports.fileSessionId = fileSessionId
module.exports.krupteinSet = (c) => kruptein('set', c)
module.exports.krupteinGet = (c) => kruptein('get', c)
