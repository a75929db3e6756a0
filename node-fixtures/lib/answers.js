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

// express-session's pathname check: with a valid signed cookie, does a request to `url`
// (req.originalUrl, as Node's http parser hands it over) reach the store when the
// cookie's path is `path`? (index.js: parseUrl.original(req).pathname vs cookie.path)
const pathMiddlewares = new Map()
function sessionPath ({ url, path }) {
  let entry = pathMiddlewares.get(path)
  if (!entry) {
    const store = new RecordingStore()
    const middleware = session({ secret: 'path secret', store, resave: false, saveUninitialized: false, cookie: { path } })
    entry = { store, middleware }
    pathMiddlewares.set(path, entry)
  }
  entry.store.asked = null
  const cookie = 'connect.sid=' + encodeURIComponent('s:' + signature.sign('abc', 'path secret'))
  const req = { headers: { cookie }, url, originalUrl: url }
  const res = { writeHead () {}, end () {}, getHeader () {}, setHeader () {} }
  let done = false
  entry.middleware(req, res, (err) => { if (err) throw err; done = true })
  if (!done) throw new Error('express-session did not finish synchronously')
  return { result: entry.store.asked !== null }
}
module.exports.sessionPath = sessionPath

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

// ---- cookie-session 2.1.1 (through cookies 0.9.1 and keygrip 1.1.0), for cookie_session.py --
//
// A case: {keys: [...] | null, name, signed, options: {snake_case cookie options}, https, now,
// header: the Cookie header | null, ...}. The real middleware runs on a fake request (its
// socket encrypted when `https`) with Date.now() pinned to `now`; the answer holds the
// Set-Cookie values it sent once the handler returned, and `set_error`: the message of an
// error that cookies.set threw and cookie-session swallowed (it then writes nothing).

const cookieSession = require('cookie-session')
const Cookies = require('cookies')

const CS_OPTION_NAMES = {
  max_age: 'maxAge',
  expires: 'expires',
  path: 'path',
  domain: 'domain',
  same_site: 'sameSite',
  secure: 'secure',
  http_only: 'httpOnly',
  partitioned: 'partitioned',
  priority: 'priority',
  overwrite: 'overwrite'
}

// the errors cookie-session's onHeaders hook swallows (`catch (e) { debug(...) }`): recorded
// on their way out of cookies.set, which behaves as before
let setErrors = null
const realSet = Cookies.prototype.set
Cookies.prototype.set = function set (...args) {
  try {
    return realSet.apply(this, args)
  } catch (err) {
    if (setErrors) setErrors.push(err.message)
    throw err
  }
}

const csMiddlewares = new Map()

function csMiddleware ({ keys, name, signed, options }) {
  const key = JSON.stringify(wireKey([keys, name, signed, options]))
  let middleware = csMiddlewares.get(key)
  if (!middleware) {
    const opts = { name, signed }
    if (keys !== null && keys !== undefined) opts.keys = keys
    for (const option of Object.keys(options || {})) opts[CS_OPTION_NAMES[option]] = options[option]
    middleware = cookieSession(opts)
    if (csMiddlewares.size >= 1000) csMiddlewares.clear() // the fuzz makes endless option sets
    csMiddlewares.set(key, middleware)
  }
  return middleware
}

function wireKey (value) {
  // a cache key that tells a Buffer, a Date and undefined apart from look-alike JSON
  return require('./wire').encode(value)
}

function csRequest (c, handler) {
  const middleware = csMiddleware(c)
  const headers = {}
  const req = {
    headers: c.header === null || c.header === undefined ? {} : { cookie: c.header },
    socket: { encrypted: !!c.https },
    url: '/',
    originalUrl: '/'
  }
  const res = {
    getHeader: (n) => headers[n.toLowerCase()],
    setHeader: (n, v) => { headers[n.toLowerCase()] = v },
    writeHead () {},
    end () {}
  }
  const realNow = Date.now
  Date.now = () => c.now
  setErrors = []
  try {
    let out
    let done = false
    middleware(req, res, (err) => {
      if (err) throw err
      out = handler(req)
      done = true
    })
    if (!done) throw new Error('cookie-session did not finish synchronously')
    res.writeHead(200) // on-headers runs cookie-session's hook here
    const result = { ...out, set_cookie: [].concat(headers['set-cookie'] || []) }
    if (setErrors.length) result.set_error = setErrors[0]
    return { result }
  } finally {
    Date.now = realNow
    setErrors = null
  }
}

// the handler reads req.session and leaves it alone: what it holds (null: a new, empty
// session, `isNew`), and what Node sends back for the read
function cookieSessionLoad (c) {
  return csRequest(c, (req) => {
    const sess = req.session
    return { session: sess.isNew ? null : JSON.stringify(sess) }
  })
}

// action "assign": req.session = data (the cookie is never read); "clear": req.session = null;
// "mutate": the handler reads req.session and changes it in place to hold `data` (keys the
// session cannot hold as its own, such as isNew or toString, left alone), or with data null
// sets req.session = null after reading it
function cookieSessionWrite (c) {
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k)
  return csRequest(c, (req) => {
    if (c.action === 'assign') req.session = c.data
    else if (c.action === 'clear') req.session = null
    else if (c.action === 'mutate') {
      const sess = req.session
      if (c.data === null) {
        req.session = null
      } else {
        for (const k of Object.keys(sess)) if (!own(c.data, k)) delete sess[k]
        for (const k of Object.keys(c.data)) {
          if (!(k in sess) || Object.prototype.propertyIsEnumerable.call(sess, k)) sess[k] = c.data[k]
        }
      }
    } else throw new Error('unknown action ' + c.action)
    return {}
  })
}

// what cookie-session's decode() reads: Buffer.from(text, 'base64'), its bytes and as UTF-8
function cookieSessionBase64 ({ text }) {
  const buf = Buffer.from(text, 'base64')
  return { result: { hex: buf.toString('hex'), utf8: buf.toString('utf8') } }
}

module.exports.cookie_session_load = cookieSessionLoad
module.exports.cookie_session_write = cookieSessionWrite
module.exports.cookie_session_base64 = cookieSessionBase64

// ---- dates: what express-session's Cookie reads back from a stored `expires` ---------------

// new Date(text).getTime(): a time value, or null for an Invalid Date
function dateValue ({ text }) {
  const value = new Date(text).getTime()
  return { result: Number.isNaN(value) ? null : value }
}

module.exports.dateValue = dateValue
