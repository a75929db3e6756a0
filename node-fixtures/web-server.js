'use strict'
// The Express side of the web tests (tests/test_web_*.py): several express-session
// configurations in one Express app, each mounted at a path of its own, with the routes the
// Python apps of tests/apps/web.py have at the same paths, so that one request sequence runs
// on both and the answers can be compared.
//
//   node web-server.js '<config JSON>'
//
// config: {
//   stores: {"<name>": <lib/store.js config>, ...},
//   mounts: {"/plain": {store: "<name>", session: {cookie?, rolling?, resave?, unset?, proxy?,
//            saveUninitialized?}}, ...},
//   secret: [...]
// }
//
// Every mount answers (JSON bodies):
//   GET  /session      {id, loaded: whether the data came from the store, session: toJSON}
//   POST /update       merge the body into req.session
//   POST /update-then  {set, then: url, body?}: merge `set`, then POST `body` to `then` with
//                      this request's Cookie header (another app acting on the same session
//                      while this request runs), then answer
//   POST /update-fail  merge the body, then throw (Express's error handler answers 500)
//   POST /save         {before, after}: merge `before`, req.session.save(), merge `after`
//   POST /logout       req.session.destroy()
//   POST /unset        req.session = null (what `unset` acts on)
//   GET  /touch        req.session.touch()
// It prints {"port": N} when it listens, then answers JSON lines on stdin:
//   {"id", "op": "get" | "raw", "store": "<name>", "sid"} -> {"id", "result"} | {"id", "error"}

const readline = require('readline')
const express = require('express')
const session = require('express-session')
const wire = require('./lib/wire')
const { makeStore } = require('./lib/store')
const { run, listen } = require('./lib/run')

function get (store, sid) {
  // as express-session reads it: session-file-store's ENOENT is no session
  return new Promise((resolve, reject) => {
    store.get(sid, (err, result) => err && err.code !== 'ENOENT' ? reject(err) : resolve(err ? null : result))
  })
}

function mount (backend, options, secret) {
  const router = express.Router()
  const sessionOptions = {
    secret,
    store: backend.store,
    cookie: options.cookie,
    rolling: options.rolling,
    resave: options.resave ?? false,
    saveUninitialized: options.saveUninitialized ?? false
  }
  if (options.unset !== undefined) sessionOptions.unset = options.unset
  if (options.proxy !== undefined) sessionOptions.proxy = options.proxy
  router.use(session(sessionOptions))
  router.get('/session', (req, res) => {
    const loaded = req.session && Object.keys(req.session).some((key) => key !== 'cookie')
    res.json({ id: req.sessionID, loaded, session: req.session ? JSON.parse(JSON.stringify(req.session)) : null })
  })
  router.post('/update', (req, res) => {
    for (const [key, value] of Object.entries(req.body || {})) req.session[key] = value
    res.json({ id: req.sessionID })
  })
  router.post('/update-then', async (req, res) => {
    for (const [key, value] of Object.entries(req.body.set || {})) req.session[key] = value
    const answer = await fetch(req.body.then, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: req.headers.cookie || '' },
      body: JSON.stringify(req.body.body || {})
    })
    await answer.text()
    res.json({ id: req.sessionID, then: answer.status })
  })
  router.post('/update-fail', (req, res) => {
    for (const [key, value] of Object.entries(req.body || {})) req.session[key] = value
    throw new Error('the route failed')
  })
  router.post('/save', (req, res, next) => {
    Object.assign(req.session, req.body.before || {})
    req.session.save((err) => {
      if (err) return next(err)
      Object.assign(req.session, req.body.after || {})
      res.json({ id: req.sessionID })
    })
  })
  router.post('/logout', (req, res, next) => {
    req.session.destroy((err) => err ? next(err) : res.json({ ok: true }))
  })
  router.post('/unset', (req, res) => {
    req.session = null
    res.json({ ok: true })
  })
  router.get('/touch', (req, res) => {
    req.session.touch()
    res.json({ id: req.sessionID })
  })
  return router
}

run(async () => {
  const config = JSON.parse(process.argv[2])
  // the control channel's store of each name, and one store object per mount: express-session
  // sets `store.generate` on the store it is given, so on a store shared by several
  // middlewares every new session would take the cookie options of the last one made
  const backends = {}
  for (const [name, store] of Object.entries(config.stores)) backends[name] = await makeStore(store)
  const app = express()
  app.use(express.json())
  const mounted = []
  for (const [path, options] of Object.entries(config.mounts)) {
    const backend = await makeStore(config.stores[options.store])
    mounted.push(backend)
    app.use(path, mount(backend, options.session || {}, config.secret))
  }
  app.use((err, req, res, next) => {
    res.status(500).json({ error: String(err && err.message) })
  })
  const listener = await listen(app, 0)

  let queue = Promise.resolve()
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      let message = {}
      try {
        message = JSON.parse(line)
        const backend = backends[message.store]
        const result = message.op === 'raw'
          ? await backend.raw(message.sid)
          : JSON.parse(JSON.stringify((await get(backend.store, message.sid)) ?? null))
        process.stdout.write(JSON.stringify({ id: message.id, result: wire.encode(result) }) + '\n')
      } catch (err) {
        process.stdout.write(JSON.stringify({ id: message.id, error: String((err && err.stack) || err) }) + '\n')
      }
    })
  })
  process.stdin.on('end', async () => {
    await queue
    listener.close()
    listener.closeAllConnections()
    for (const backend of [...Object.values(backends), ...mounted]) await backend.close()
    process.exit(0)
  })
  process.stdin.resume()
})
