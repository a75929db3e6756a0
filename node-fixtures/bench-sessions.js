'use strict'
// The handshake benchmark's sessions, made the Node way (benchmarks/handshake/):
//   node bench-sessions.js < CONFIG.json  ->  {"count": N, "seconds": S}
// CONFIG: {store: {type: "redis", url, prefix} | {type: "file", path}  (lib/store.js),
//          count, secret, cookies: the file to write}
// Each session is an express-session Session (uid-safe 24-byte id, a Cookie with maxAge,
// a passport user and a few fields, about 400 bytes of JSON) saved through the real store
// (connect-redis 10 or session-file-store 1.5); the file gets one Cookie header value a
// line, `connect.sid=s%3A<id>.<mac>`, as express-session's setcookie signs and serializes it.

const fs = require('fs')
const session = require('express-session')
const cookie = require('cookie')
const signature = require('cookie-signature')
const uid = require('uid-safe')
const { makeStore } = require('./lib/store')
const { run, input } = require('./lib/run')

const BATCH = 500 // saves in flight at once

function data (n) {
  return {
    passport: { user: String(100000 + n) },
    user: {
      id: 100000 + n,
      name: 'User Number ' + n,
      email: 'user' + n + '@example.com',
      roles: n % 3 ? ['member', 'beta'] : ['member'],
      locale: 'en-US'
    },
    csrfSecret: 'q9Vh3kS1-xYp0LwZ' + String(n).padStart(8, '0'),
    flash: {},
    lastSeen: 1780000000000 + n,
    cart: [{ sku: 'SKU-' + (n % 97), qty: 1 + (n % 3), price: 19.99 }]
  }
}

function save (store, n) {
  const sid = uid.sync(24) // express-session's genid
  // the shape a logged-in user's session has in express-session: store.generate makes
  // `new Session(req)` and sets its cookie first (express-session index.js), then the
  // application (passport, ...) adds its data, so the stored JSON starts with "cookie"
  const req = { sessionID: sid, sessionStore: store }
  const sess = new session.Session(req)
  sess.cookie = new session.Cookie({ maxAge: 86400000, httpOnly: true, path: '/' })
  Object.assign(sess, data(n))
  return new Promise((resolve, reject) => {
    sess.save((err) => err ? reject(err) : resolve(sid))
  })
}

run(async () => {
  const config = input()
  const started = process.hrtime.bigint()
  const backend = await makeStore(config.store)
  const lines = []
  for (let first = 0; first < config.count; first += BATCH) {
    const batch = []
    for (let n = first; n < Math.min(config.count, first + BATCH); n++) batch.push(save(backend.store, n))
    for (const sid of await Promise.all(batch)) {
      const signed = 's:' + signature.sign(sid, config.secret)
      lines.push(cookie.serialize('connect.sid', signed))
    }
  }
  fs.writeFileSync(config.cookies, lines.join('\n') + '\n')
  await backend.close()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  process.stdout.write(JSON.stringify({ count: lines.length, seconds }) + '\n')
})
