'use strict'
// The Express app of the browser test: a login page whose script connects to the Python
// Engine.IO / Socket.IO server on another port and shows what Python says about the user.
//
//   node browser-app.js '<config JSON>'
//
// config: {
//   store: {type: "file", path, ttl?, secret?} | {type: "redis", url, prefix?} (lib/store.js),
//   session: {secret: [...], name?, cookie?: {sameSite?, maxAge?, ...}},
//   port?: 0
// }
//
// It prints one line {"port": N} when it listens and serves until its stdin closes.
//
//   GET  /?server=http://127.0.0.1:P&transport=polling|websocket|default&kind=engineio|socketio
//          [&credentials=0]
//        the page: a login form (or "logged in as <user>" and a logout button), #status and
//        #detail; public/page.js connects to `server` with credentials and writes the
//        message Python sends into #status
//   POST /login   form field `user`: a fresh session with {user}; 303 back to the page
//   POST /logout  destroys the session; 303 back to the page
//   GET  /engine.io.js, /socket.io.js   the client bundles, from node_modules
//
// The page and the Python server are same-site (both on 127.0.0.1; a cookie is per host, not
// per port), so the session cookie, HttpOnly and SameSite=Lax by default here, is sent on the
// cross-origin polling requests (XHR withCredentials; Python answers CORS with credentials for
// this origin) and on the websocket handshake.

const path = require('path')
const express = require('express')
const session = require('express-session')
const { makeStore } = require('./lib/store')
const { run, listen, exitWhenStdinEnds } = require('./lib/run')

const MODULES = path.join(__dirname, 'node_modules')
const BUNDLES = {
  '/engine.io.js': path.join(MODULES, 'engine.io-client', 'dist', 'engine.io.min.js'),
  '/socket.io.js': path.join(MODULES, 'socket.io-client', 'dist', 'socket.io.min.js')
}

function escapeHtml (text) {
  return String(text).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';')
}

// back to the page with the same query (a path on this origin: no open redirect)
function backToPage (req) {
  const query = req.originalUrl.indexOf('?')
  return '/' + (query === -1 ? '' : req.originalUrl.slice(query))
}

function page (user) {
  const account = user === undefined
    ? `<form id="login" method="post" action="/login">
      <label>Name <input id="user" name="user" value="ada" autocomplete="off"></label>
      <button id="login-button" type="submit">Log in</button>
    </form>`
    : `<p id="account">logged in as <b>${escapeHtml(user)}</b> (Express)</p>
    <form id="logout" method="post" action="/logout">
      <button id="logout-button" type="submit">Log out</button>
    </form>`
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>engineio-session browser test</title>
  <style>
    body { font: 16px/1.4 sans-serif; margin: 2em; }
    #status { font-size: 2em; margin: 0.5em 0; padding: 0.3em 0.6em; border: 2px solid #888; }
    body[data-state="session"] #status { border-color: #2a2; background: #efe; }
    body[data-state="error"] #status, body[data-state="closed"] #status { border-color: #c22; background: #fee; }
    #detail { font-family: monospace; white-space: pre-wrap; color: #444; }
  </style>
</head>
<body data-state="idle" data-logged-in="${user === undefined ? 'no' : 'yes'}">
  <h1>Express login, Python realtime</h1>
  ${account}
  <div id="status">not connected</div>
  <div id="detail"></div>
  <script src="/engine.io.js"></script>
  <script src="/socket.io.js"></script>
  <script src="/page.js"></script>
</body>
</html>
`
}

function app (store, options) {
  const server = express()
  server.disable('x-powered-by')
  server.use(express.urlencoded({ extended: false }))
  server.use(session({
    secret: options.secret,
    name: options.name,
    cookie: options.cookie,
    resave: false,
    saveUninitialized: false,
    store
  }))
  for (const [route, file] of Object.entries(BUNDLES)) {
    server.get(route, (req, res) => res.sendFile(file))
  }
  server.use(express.static(path.join(__dirname, 'public')))
  server.get('/favicon.ico', (req, res) => res.status(204).end())
  server.get('/', (req, res) => {
    res.set('Cache-Control', 'no-store')
    res.type('html').send(page(req.session.user))
  })
  server.post('/login', (req, res, next) => {
    const user = String((req.body && req.body.user) || '').trim()
    if (!user) return res.status(400).type('text').send('a user name is required')
    // a new id on login, as an app should (no session fixation); saved before the redirect
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = user
      req.session.save((err) => err ? next(err) : res.redirect(303, backToPage(req)))
    })
  })
  server.post('/logout', (req, res, next) => {
    req.session.destroy((err) => err ? next(err) : res.redirect(303, backToPage(req)))
  })
  server.use((err, req, res, next) => {
    process.stderr.write(String((err && err.stack) || err) + '\n')
    res.status(500).type('text').send(String(err && err.message))
  })
  return server
}

run(async () => {
  const config = JSON.parse(process.argv[2])
  // a missing session file (after logout) is an answer here, not worth 5 retries of 50-100 ms
  const backend = await makeStore({ retries: 0, ...config.store })
  exitWhenStdinEnds(await listen(app(backend.store, config.session), config.port), backend)
})
