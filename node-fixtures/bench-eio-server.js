'use strict'
// The Node side of the handshake benchmark (benchmarks/handshake/): an engine.io 6 server,
// plain or with express-session on connect-redis in front of every handshake.
//
//   node bench-eio-server.js '<config JSON>'
//
// config: {pingInterval, pingTimeout (ms),
//          session?: {secret, store: {type: "redis", url, prefix}}  (lib/store.js)}
// With `session`, `engine.use(session({store, secret, resave: false,
// saveUninitialized: false}))`: express-session's middleware reads the cookie, verifies it,
// loads the session (GET) and, for a loaded session it did not change, touches it (EXPIRE)
// when the response ends: what an Express app's handshake costs in Node.
// It prints {"port": N} once it listens. GET /bench/stats answers
// {connections, loaded, clients, rss, cpu, pid}: handshakes accepted, requests whose
// session was loaded from the store (one with the benchmark's passport user), open
// engine.io sockets, the process's RSS in bytes and CPU time (user + system, seconds). It exits when stdin ends.

const http = require('http')
const { Server } = require('engine.io')
const session = require('express-session')
const { makeStore } = require('./lib/store')
const { run, exitWhenStdinEnds } = require('./lib/run')

run(async () => {
  const config = JSON.parse(process.argv[2])
  const stats = { connections: 0, loaded: 0 }
  const engine = new Server({ pingInterval: config.pingInterval, pingTimeout: config.pingTimeout })
  let backend = { close: async () => {} }
  if (config.session) {
    backend = await makeStore(config.session.store)
    engine.use(session({
      store: backend.store,
      secret: config.session.secret,
      resave: false,
      saveUninitialized: false
    }))
    engine.use((req, res, next) => {
      if (req.session && req.session.passport) stats.loaded++
      next()
    })
  }
  engine.on('connection', () => { stats.connections++ })

  const listener = http.createServer((req, res) => {
    if (req.url !== '/bench/stats') {
      res.writeHead(404).end()
      return
    }
    const cpu = process.cpuUsage()
    const body = {
      ...stats,
      clients: engine.clientsCount,
      rss: process.memoryUsage().rss,
      cpu: (cpu.user + cpu.system) / 1e6,
      pid: process.pid
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
  })
  engine.attach(listener) // /engine.io/ to the engine, anything else to the handler above
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve))
  process.stdout.write(JSON.stringify({ port: listener.address().port }) + '\n')
  exitWhenStdinEnds(listener, backend)
})
