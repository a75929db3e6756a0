'use strict'
// The Node half of the demo: an Express app that logs users in with express-session.
// Nothing in it knows about Python: it is the app you already have.
//
//   NODE_PATH=node-fixtures/node_modules node demo/express_app.js
//
// env: PORT (0 = any), STORE ("file", "redis", or "postgres", "mysql", "sqlite"), SESSIONS
//      (the file store's directory), REDIS_URL, REDIS_PREFIX, SECRET, PYTHON_URL (for the
//      page's script); for the SQL stores STORE_CONFIG, the store as
//      node-fixtures/lib/store.js takes it (connect-pg-simple, express-mysql-session,
//      connect-session-knex on SQLite)
//
// POST /login {"user": "ada"}   log in: the session gets {user}
// GET  /me                      what Express sees in the session now
// POST /logout                  destroy the session
// GET  /                        a page to do the same in a browser, talking to Python too

const http = require('http')
const path = require('path')
const express = require('express')
const session = require('express-session')

async function sessionStore () {
  if (process.env.STORE_CONFIG) {
    const { makeStore } = require('../node-fixtures/lib/store')
    return (await makeStore(JSON.parse(process.env.STORE_CONFIG))).store
  }
  if (process.env.STORE === 'redis') {
    const { createClient } = require('redis')
    const { RedisStore } = require('connect-redis')
    const client = createClient({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379' })
    await client.connect()
    return new RedisStore({ client, prefix: process.env.REDIS_PREFIX || 'sess:' })
  }
  const FileStore = require('session-file-store')(session)
  return new FileStore({ path: process.env.SESSIONS || './sessions', retries: 0, logFn () {} })
}

async function main () {
  const app = express()
  app.use(express.json())
  app.use(session({
    store: await sessionStore(),
    secret: process.env.SECRET || 'keyboard cat',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 60 * 60 * 1000, sameSite: 'lax' }
  }))

  app.post('/login', (req, res) => {
    req.session.user = req.body.user
    res.json({ ok: true, user: req.session.user })
  })
  app.get('/me', (req, res) => {
    const { cookie, ...data } = req.session
    res.json({ id: req.sessionID, loggedIn: req.session.user !== undefined, data })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => err ? next(err) : res.json({ ok: true }))
  })

  const modules = path.dirname(require.resolve('engine.io-client/package.json'))
  app.get('/engine.io.js', (req, res) => res.sendFile(path.join(modules, 'dist', 'engine.io.min.js')))
  app.get('/', (req, res) => res.type('html').send(PAGE.replace('PYTHON_URL', process.env.PYTHON_URL || '')))

  const server = http.createServer(app)
  server.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
  })
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>engineio-session demo</title>
<style>body{font:16px/1.5 sans-serif;margin:2em;max-width:48em}pre{background:#f4f4f4;padding:.6em}
button,input{font-size:1em}</style></head>
<body>
<h1>Express logs you in, Python knows who you are</h1>
<p><input id="user" value="ada"> <button id="login">Log in (Express)</button>
<button id="logout">Log out (Express)</button> <button id="me">What Express sees</button></p>
<p><button id="connect">Connect to Python</button>
<button id="theme">Ask Python to set theme=dark</button></p>
<pre id="log"></pre>
<script src="/engine.io.js"></script>
<script>
const python = 'PYTHON_URL'
const log = (who, what) => { document.getElementById('log').textContent += who + ': ' + what + '\\n' }
const json = (r) => r.json()
let socket = null
document.getElementById('login').onclick = () => fetch('/login', { method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ user: document.getElementById('user').value }) }).then(json)
  .then((r) => log('Express', 'logged in as ' + r.user))
document.getElementById('logout').onclick = () => fetch('/logout', { method: 'POST' }).then(json)
  .then(() => log('Express', 'logged out (Python notices within a second)'))
document.getElementById('me').onclick = () => fetch('/me').then(json)
  .then((r) => log('Express', JSON.stringify(r.data)))
document.getElementById('connect').onclick = () => {
  socket = eio(python, { withCredentials: true })
  socket.on('open', () => log('browser', 'connected to Python at ' + python))
  socket.on('message', (m) => log('Python', m))
  socket.on('close', (reason) => log('browser', 'Python closed the connection (' + reason + ')'))
}
document.getElementById('theme').onclick = () => socket && socket.send(JSON.stringify({ set: { theme: 'dark' } }))
</script></body></html>`

main().catch((err) => { console.error(err); process.exit(1) })
