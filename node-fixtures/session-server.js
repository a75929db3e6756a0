'use strict'
// A real Express app with express-session on a real Node store, for the interop tests.
//
//   node session-server.js '<config JSON>'
//
// config: {
//   store: {type: "redis" | "redis-cluster" | "file", ...}   (lib/store.js),
//   session: {secret: [...], name?, cookie?: {...}, rolling?, resave?, saveUninitialized?},
//   port?: 0
// }
//
// It prints one line {"port": N} when it listens, then answers JSON lines on stdin:
//   {"id": 1, "op": "get", "sid": "..."}  ->  {"id": 1, "result": ...} | {"id": 1, "error": "..."}
// ops: get set touch destroy all ids length clear (through the store's own API), raw (the
// stored bytes as a string), ttl (Redis TTL of the key), roundtrip-generate, deep-equal.
// HTTP (JSON bodies):
//   POST /login     merge the body into req.session, answer {id}
//   POST /update    the same, for an existing session
//   GET  /session   {id, session: req.session.toJSON(), loaded: whether it came from the store}
//   POST /logout    req.session.destroy()
//   GET  /touch     just touch (rolling sessions reset the cookie)

const readline = require('readline')
const util = require('util')
const express = require('express')
const session = require('express-session')
const wire = require('./lib/wire')
const { randomSession } = require('./lib/random-session')
const { makeStore } = require('./lib/store')
const { run, listen, exitWhenStdinEnds } = require('./lib/run')

function call (store, method, ...args) {
  if (typeof store[method] !== 'function') return Promise.reject(new Error('the store has no ' + method + '()'))
  return new Promise((resolve, reject) => {
    store[method](...args, (err, result) => err ? reject(err) : resolve(result))
  })
}

function plain (value) {
  // what a store handed back, as JSON sees it (a connect-redis all() entry has an id, too)
  return value === undefined ? null : JSON.parse(JSON.stringify(value))
}

async function control (backend, message) {
  const { store } = backend
  switch (message.op) {
    case 'get': return plain(await call(store, 'get', message.sid))
    case 'set': await call(store, 'set', message.sid, wire.decode(message.session)); return null
    case 'touch': await call(store, 'touch', message.sid, wire.decode(message.session)); return null
    case 'destroy': await call(store, 'destroy', message.sid); return null
    case 'all': return plain(await call(store, 'all'))
    case 'ids': return plain(await call(store, 'ids'))
    case 'list': return plain(await call(store, 'list'))
    case 'length': return await call(store, 'length')
    case 'clear': await call(store, 'clear'); return null
    case 'raw': return await backend.raw(message.sid)
    case 'ttl': return await backend.ttl(message.sid)
    case 'now': return Date.now()
    case 'roundtrip-generate': {
      // random session objects, stored under the given ids; answered as stored (JSON)
      const out = []
      for (let i = 0; i < message.sids.length; i++) {
        const sess = randomSession(message.seed + i)
        await call(store, 'set', message.sids[i], sess)
        out.push(JSON.parse(JSON.stringify(sess)))
      }
      return out
    }
    case 'deep-equal': {
      // does the store now hold, under each sid, exactly the expected JSON value?
      const mismatches = []
      for (let i = 0; i < message.sids.length; i++) {
        const got = plain(await call(store, 'get', message.sids[i]))
        const want = message.expected[i]
        if (!util.isDeepStrictEqual(got, want)) mismatches.push({ sid: message.sids[i], got, want })
      }
      return mismatches
    }
    default: throw new Error('unknown op ' + message.op)
  }
}

function app (backend, options) {
  const server = express()
  server.use(express.json({ limit: '5mb' }))
  const sessionOptions = {
    secret: options.secret,
    name: options.name,
    cookie: options.cookie,
    rolling: options.rolling,
    resave: options.resave ?? false,
    saveUninitialized: options.saveUninitialized ?? false,
    store: backend.store
  }
  if (options.proxy !== undefined) sessionOptions.proxy = options.proxy
  server.use((req, res, next) => {
    req.cookieIdBefore = req.headers.cookie
    next()
  })
  server.use(session(sessionOptions))
  server.post(['/login', '/update'], (req, res) => {
    for (const [key, value] of Object.entries(req.body || {})) req.session[key] = value
    res.json({ id: req.sessionID })
  })
  server.get('/session', (req, res) => {
    const loaded = req.session && Object.keys(req.session).some((key) => key !== 'cookie')
    res.json({ id: req.sessionID, loaded, session: req.session ? JSON.parse(JSON.stringify(req.session)) : null })
  })
  server.get('/touch', (req, res) => {
    req.session.touch()
    res.json({ id: req.sessionID })
  })
  server.post('/logout', (req, res, next) => {
    req.session.destroy((err) => err ? next(err) : res.json({ ok: true }))
  })
  server.use((err, req, res, next) => {
    res.status(500).json({ error: String(err && err.message) })
  })
  return server
}

run(async () => {
  const config = JSON.parse(process.argv[2])
  const backend = await makeStore(config.store)
  const listener = await listen(app(backend, config.session), config.port)

  // one command at a time, answered in order
  let queue = Promise.resolve()
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      let message = {}
      try {
        message = JSON.parse(line)
        const result = await control(backend, message)
        process.stdout.write(JSON.stringify({ id: message.id, result: wire.encode(result) }) + '\n')
      } catch (err) {
        process.stdout.write(JSON.stringify({ id: message.id, error: String((err && err.stack) || err) }) + '\n')
      }
    })
  })
  exitWhenStdinEnds(listener, backend, () => queue)
})
