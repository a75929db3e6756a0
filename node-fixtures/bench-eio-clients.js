'use strict'
// The clients of benchmarks/handshake/connections.py: engine.io-client 6 over websocket,
// each connection with the Cookie of another session.
//
//   node bench-eio-clients.js '<config JSON>'
//
// config: {mode, url, cookies: a file of Cookie header values (bench-sessions.js), ...}
//   echo:  {clients, warmup, seconds}: `clients` connections, each sends a message and
//          waits for the server's echo, again and again; answers {messages, seconds}
//          counted after `warmup` seconds
//   cycle: {clients, warmup, seconds}: `clients` loops of open a connection (the next
//          cookie), close it once open; answers {cycles, seconds} (closes seen)
//   hold:  {count, concurrency}: open `count` connections, `concurrency` at a time; prints
//          {open, seconds} once all are open, holds them until stdin ends, then exits
// A connection that fails or closes unasked is counted in `errors` and ends the run.

const fs = require('fs')
const { Socket } = require('engine.io-client')
const { run } = require('./lib/run')

function connect (url, cookie) {
  return new Socket(url, { transports: ['websocket'], extraHeaders: { Cookie: cookie } })
}

function opened (socket) {
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
    socket.once('close', (reason) => reject(new Error('closed before open: ' + reason)))
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function echo (config, cookies) {
  const sockets = await Promise.all(
    Array.from({ length: config.clients }, (_, i) => opened(connect(config.url, cookies[i % cookies.length]))))
  let counting = false
  let messages = 0
  let failure = null
  for (const socket of sockets) {
    socket.on('message', () => {
      if (counting) messages++
      socket.send('x')
    })
    socket.on('close', (reason) => { if (!failure && !socket.benchDone) failure = 'closed: ' + reason })
    socket.send('x')
  }
  await sleep(config.warmup * 1000)
  counting = true
  const started = process.hrtime.bigint()
  await sleep(config.seconds * 1000)
  counting = false
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  for (const socket of sockets) { socket.benchDone = true; socket.close() }
  if (failure) throw new Error(failure)
  return { messages, seconds }
}

async function cycle (config, cookies) {
  let next = 0
  let cycles = 0
  let counting = false
  let stopping = false
  async function loop () {
    while (!stopping) {
      const socket = await opened(connect(config.url, cookies[next++ % cookies.length]))
      await new Promise((resolve) => { socket.once('close', resolve); socket.close() })
      if (counting) cycles++
    }
  }
  const loops = Array.from({ length: config.clients }, loop)
  await sleep(config.warmup * 1000)
  counting = true
  const started = process.hrtime.bigint()
  await sleep(config.seconds * 1000)
  counting = false
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  stopping = true
  await Promise.all(loops)
  return { cycles, seconds }
}

async function hold (config, cookies) {
  const started = process.hrtime.bigint()
  const sockets = []
  let failure = null
  for (let first = 0; first < config.count; first += config.concurrency) {
    const batch = []
    for (let i = first; i < Math.min(config.count, first + config.concurrency); i++) {
      batch.push(opened(connect(config.url, cookies[i % cookies.length])))
    }
    for (const socket of await Promise.all(batch)) {
      socket.on('close', (reason) => { if (!failure && !socket.benchDone) failure = 'closed: ' + reason })
      sockets.push(socket)
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  process.stdout.write(JSON.stringify({ open: sockets.length, seconds }) + '\n')
  await new Promise((resolve) => { process.stdin.on('end', resolve); process.stdin.resume() })
  if (failure) throw new Error(failure)
  for (const socket of sockets) { socket.benchDone = true; socket.close() }
  return null
}

run(async () => {
  const config = JSON.parse(process.argv[2])
  const cookies = fs.readFileSync(config.cookies, 'utf8').split('\n').filter(Boolean)
  const modes = { echo, cycle, hold }
  const result = await modes[config.mode](config, cookies)
  if (result) process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
})
