'use strict'
// Node's own clients (engine.io-client, socket.io-client) against a Python server, for the
// attach() end-to-end tests.
//
//   node clients.js < jobs.json   (a JSON array of jobs on stdin)
//
// job: {name, kind: "engineio" | "socketio", url, path: "/e/", transport: "polling" | "websocket",
//       cookie?: "connect.sid=...", headers?: {...}, auth?: {...}, timeout_ms?: 3000}
//
// Every job runs at once. When all have ended, one JSON line: an array, a result per job:
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
const { run, input } = require('./lib/run')

function headersOf (job) {
  const headers = Object.assign({}, job.headers || {})
  if (job.cookie) headers.Cookie = job.cookie
  return headers
}

// How a job ends, the same for both clients: when the first "get" answers, it reports (or, with
// then: "destroy", asks for the destroy and waits for the server to close); an error or a close
// ends it too
function ending (job, done, events, socket) {
  let session = null
  let destroyedAt = null
  return {
    session (value) { session = value },
    got (answer, transport, destroy) {
      if (job.then === 'destroy') {
        destroyedAt = Date.now()
        destroy()
        return
      }
      done({ state: session ? 'session' : 'no-session', session, get: answer.data, transport, events })
      socket.close()
    },
    error (err) {
      done({ state: 'error', error: String(err && err.message), description: String((err && err.description) || ''), events })
    },
    closed (reason) {
      if (destroyedAt !== null) done({ state: 'closed-by-server', after_ms: Date.now() - destroyedAt, reason, events })
      done({ state: 'closed', events })
    }
  }
}

function engineio (job, done) {
  const events = []
  const socket = new Socket(job.url, {
    path: job.path,
    transports: [job.transport],
    upgrade: false,
    extraHeaders: headersOf(job)
  })
  const end = ending(job, done, events, socket)
  socket.on('open', () => {
    events.push(['open', socket.transport.name])
    socket.send(JSON.stringify({ cmd: 'get' }))
  })
  socket.on('message', (data) => {
    const message = JSON.parse(data)
    events.push(['message', message])
    if (message.event === 'session') end.session(message)
    if (message.event === 'get') {
      end.got(message, socket.transport.name, () => socket.send(JSON.stringify({ cmd: 'destroy' })))
    }
  })
  socket.on('error', end.error)
  socket.on('close', (reason) => {
    events.push(['close', reason])
    end.closed(reason)
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
  const end = ending(job, done, events, socket)
  socket.on('session', (payload) => {
    events.push(['session', payload])
    end.session(payload)
  })
  socket.on('connect', () => {
    events.push(['connect', socket.io.engine.transport.name])
    socket.emit('get', null, (answer) => {
      events.push(['get', answer])
      end.got(answer, socket.io.engine.transport.name, () => socket.emit('destroy', null, () => {}))
    })
  })
  socket.on('connect_error', end.error)
  socket.on('disconnect', (reason) => {
    events.push(['disconnect', reason])
    end.closed(reason)
  })
}

async function runJob (job) {
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

run(async () => {
  const jobs = input()
  const results = await Promise.all(jobs.map(runJob))
  process.stdout.write(JSON.stringify(results) + '\n')
  process.exit(0)
})
