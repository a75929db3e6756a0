'use strict'
// Node's own clients (engine.io-client, socket.io-client) against a Python server, for the
// attach() end-to-end tests.
//
//   node clients.js '<JSON array of jobs>'
//
// job: {name, kind: "engineio" | "socketio", url, path: "/e/", transport: "polling" | "websocket",
//       cookie?: "connect.sid=...", headers?: {...}, auth?: {...}, timeout_ms?: 3000}
//
// Every job runs at once. For each job one JSON line is printed when it ends:
//   {name, state: "session" | "no-session" | "error" | "closed" | "timeout", session?, transport?,
//    error?, events: [[name, payload], ...]}
// "session": the server's `session` message arrived (Engine.IO: a message {"event": "session"};
// Socket.IO: the `session` event). The job then asks for the session again ("get": a message,
// or an event with an ack) and records the answer as `get`, to show the connection carries on.
// "no-session": the connection opened and a "get" answered with no session before any
// `session` message. "error": the handshake failed (connect_error, transport error).
// With `then: "destroy"` the job asks the server to destroy the session after "get" and waits
// for the server to close the connection: {state: "closed-by-server", after_ms, reason}.

const { Socket } = require('engine.io-client')
const { io } = require('socket.io-client')

function headersOf (job) {
  const headers = Object.assign({}, job.headers || {})
  if (job.cookie) headers.Cookie = job.cookie
  return headers
}

function engineio (job, done) {
  const events = []
  const socket = new Socket(job.url, {
    path: job.path,
    transports: [job.transport],
    upgrade: false,
    extraHeaders: headersOf(job)
  })
  let session = null
  socket.on('open', () => {
    events.push(['open', socket.transport.name])
    socket.send(JSON.stringify({ cmd: 'get' }))
  })
  socket.on('message', (data) => {
    const message = JSON.parse(data)
    events.push(['message', message])
    if (message.event === 'session') session = message
    if (message.event === 'get' && job.then === 'destroy') {
      destroyedAt = Date.now()
      socket.send(JSON.stringify({ cmd: 'destroy' }))
    } else if (message.event === 'get') {
      done({ state: session ? 'session' : 'no-session', session, get: message.data, transport: socket.transport.name, events })
      socket.close()
    }
  })
  socket.on('error', (err) => {
    done({ state: 'error', error: String(err && err.message), description: String((err && err.description) || ''), events })
  })
  let destroyedAt = null
  socket.on('close', (reason) => {
    events.push(['close', reason])
    if (destroyedAt !== null) done({ state: 'closed-by-server', after_ms: Date.now() - destroyedAt, reason, events })
    done({ state: 'closed', events })
  })
}

function socketio (job, done) {
  const events = []
  const socket = io(job.url, {
    path: job.path,
    transports: [job.transport],
    upgrade: false,
    extraHeaders: headersOf(job),
    auth: job.auth,
    reconnection: false,
    forceNew: true
  })
  let session = null
  socket.on('session', (payload) => {
    events.push(['session', payload])
    session = payload
  })
  socket.on('connect', () => {
    events.push(['connect', socket.io.engine.transport.name])
    socket.emit('get', null, (answer) => {
      events.push(['get', answer])
      if (job.then === 'destroy') {
        destroyedAt = Date.now()
        socket.emit('destroy', null, () => {})
        return
      }
      done({ state: session ? 'session' : 'no-session', session, get: answer.data, transport: socket.io.engine.transport.name, events })
      socket.close()
    })
  })
  socket.on('connect_error', (err) => {
    done({ state: 'error', error: String(err && err.message), description: String((err && err.description) || ''), events })
  })
  let destroyedAt = null
  socket.on('disconnect', (reason) => {
    events.push(['disconnect', reason])
    if (destroyedAt !== null) done({ state: 'closed-by-server', after_ms: Date.now() - destroyedAt, reason, events })
    done({ state: 'closed', events })
  })
}

async function run (job) {
  return new Promise((resolve) => {
    let finished = false
    const timer = setTimeout(() => done({ state: 'timeout' }), job.timeout_ms || 3000)
    function done (result) {
      if (finished) return
      finished = true
      clearTimeout(timer)
      resolve(Object.assign({ name: job.name }, result))
    }
    try {
      (job.kind === 'socketio' ? socketio : engineio)(job, done)
    } catch (err) {
      done({ state: 'error', error: String(err && err.stack) })
    }
  })
}

async function main () {
  const jobs = JSON.parse(process.argv[2])
  await Promise.all(jobs.map(async (job) => {
    const result = await run(job)
    process.stdout.write(JSON.stringify(result) + '\n')
  }))
  process.exit(0)
}

main()
