'use strict'
// A real Express app with the real cookie-session, for the interop tests.
//
//   node cookie-session-server.js '<config JSON>'
//
// config: {keys?: [...], name?, signed?, options?: {cookie-session options, camelCase}, port?: 0}
// keys: from the config, else from the environment, COOKIE_SESSION_KEYS (one a line,
// newest first). It prints one line {"port": N} when it listens, and exits when stdin ends.
// HTTP (JSON bodies):
//   POST /login    req.session = the body (a new session, as a login handler writes it)
//   POST /update   each key of the body set on req.session, in place
//   GET  /me       {session: req.session, populated: req.session.isPopulated, isNew}
//   POST /logout   req.session = null

const express = require('express')
const cookieSession = require('cookie-session')
const { run, listen, exitWhenStdinEnds } = require('./lib/run')

function app (config) {
  const keys = config.keys || (process.env.COOKIE_SESSION_KEYS || '').split('\n').filter(Boolean)
  const server = express()
  server.use(express.json({ limit: '1mb' }))
  // only the options given: cookies copies every option onto each cookie, an undefined name too
  const options = { ...config.options }
  if (config.name !== undefined) options.name = config.name
  if (config.signed !== undefined) options.signed = config.signed
  if (keys.length) options.keys = keys
  server.use(cookieSession(options))
  server.post('/login', (req, res) => {
    req.session = req.body
    res.json({ ok: true })
  })
  server.post('/update', (req, res) => {
    for (const [key, value] of Object.entries(req.body || {})) req.session[key] = value
    res.json({ ok: true })
  })
  server.get('/me', (req, res) => {
    const sess = req.session
    res.json({ session: sess, populated: sess.isPopulated, isNew: sess.isNew })
  })
  server.post('/logout', (req, res) => {
    req.session = null
    res.json({ ok: true })
  })
  server.use((err, req, res, next) => {
    res.status(500).json({ error: String(err && err.message) })
  })
  return server
}

run(async () => {
  const config = JSON.parse(process.argv[2] || '{}')
  const listener = await listen(app(config), config.port)
  exitWhenStdinEnds(listener, { close: async () => {} })
})
