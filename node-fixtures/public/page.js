'use strict'
// The page's script (served by browser-app.js): connect to the Python server named in the
// query with the engine.io or socket.io client, with credentials, and show what Python says.
//
// document.body.dataset.state: idle | connecting | open | session | error | closed
// #status: "hello <user>" once Python's `session` message arrives
/* global eio, io */
;(function () {
  const params = new URLSearchParams(location.search)
  const status = document.getElementById('status')
  const detail = document.getElementById('detail')
  for (const form of document.querySelectorAll('form')) {
    form.action = new URL(form.getAttribute('action'), location.href).pathname + location.search
  }

  function show (state, text, info) {
    document.body.dataset.state = state
    status.textContent = text
    if (info !== undefined) detail.textContent = JSON.stringify(info, null, 1)
  }

  const server = params.get('server')
  if (!server) return show('idle', 'no server to connect to')
  const kind = params.get('kind') || 'engineio'
  const transport = params.get('transport') || 'default'

  // the cookie is HttpOnly: the page cannot read it, the browser sends it; on the
  // cross-origin polling requests only with withCredentials (credentials=0 leaves it out)
  const options = { withCredentials: params.get('credentials') !== '0' }
  if (transport === 'polling') {
    options.transports = ['polling']
    options.upgrade = false
  } else if (transport === 'websocket') {
    options.transports = ['websocket']
  }
  show('connecting', 'connecting to ' + server + ' (' + kind + ', ' + transport + ')')

  function hello (payload, transportName) {
    const user = payload && payload.data && payload.data.user
    show('session', 'hello ' + user, { id: payload.id, data: payload.data, transport: transportName })
  }

  // every Engine.IO packet in and out, for the test's report when something goes wrong
  window.pagePackets = []
  function record (engine) {
    const started = Date.now()
    for (const direction of ['packet', 'packetCreate']) {
      engine.on(direction, (packet) => window.pagePackets.push(
        (Date.now() - started) + 'ms ' + (direction === 'packet' ? 'in ' : 'out ') +
        engine.transport.name + ' ' + packet.type + ' ' + String(packet.data === undefined ? '' : packet.data).slice(0, 200)))
    }
    engine.on('upgrade', (transport) => window.pagePackets.push((Date.now() - started) + 'ms upgraded to ' + transport.name))
  }

  if (kind === 'socketio') {
    const socket = io(server, Object.assign({ reconnection: false }, options))
    window.pageSocket = socket
    record(socket.io.engine)
    socket.on('connect', () => {
      if (document.body.dataset.state === 'connecting') show('open', 'connected, waiting for the session')
    })
    socket.on('session', (payload) => hello(payload, socket.io.engine.transport.name))
    socket.on('connect_error', (err) => show('error', 'connect error: ' + err.message, { error: String(err), description: String(err.description || '') }))
    socket.on('disconnect', (reason) => {
      if (document.body.dataset.state !== 'session') show('closed', 'disconnected: ' + reason)
    })
    return
  }

  const socket = eio(server, options)
  window.pageSocket = socket
  record(socket)
  socket.on('open', () => show('open', 'connected, waiting for the session'))
  socket.on('message', (data) => {
    const message = JSON.parse(data)
    if (message.event === 'session') hello(message, socket.transport.name)
  })
  socket.on('error', (err) => show('error', 'error: ' + (err && err.message), { error: String(err), description: String((err && err.description) || '') }))
  socket.on('close', (reason, description) => {
    if (document.body.dataset.state !== 'session' && document.body.dataset.state !== 'error') {
      show('closed', 'closed: ' + reason, { description: String((description && description.message) || description || '') })
    }
  })
})()
