'use strict'
// Times Node on the cookie-session benchmark's own headers, for `make bench`:
//   node bench-cookie-session.js < HEADERS.json  ->  {"load_us": ...} per header
// HEADERS.json: {"name": ..., "keys": [...], "headers": [...]}
// load: what cookie-session does with a request's Cookie header before the handler sees
// req.session: cookies.get(name, {signed: true}) (keygrip over the keys in turn, and the
// re-signed .sig when an older key matched), then Buffer.from(value, 'base64') and JSON.parse.

const Cookies = require('cookies')
const Keygrip = require('keygrip')
const { run, input } = require('./lib/run')
const { time } = require('./lib/bench')

const { name, keys, headers } = input()
const keygrip = new Keygrip(keys) // cookie-session makes one per request; its cost is small
const res = { getHeader () {}, setHeader () {} }

function load () {
  let found = 0
  for (const header of headers) {
    const cookies = new Cookies({ headers: { cookie: header }, socket: {} }, res, { keys: keygrip })
    const value = cookies.get(name, { signed: true })
    if (value && JSON.parse(Buffer.from(value, 'base64').toString('utf8')).user) found++
  }
  if (found !== headers.length) throw new Error('not every header loaded: ' + found)
}

run(async () => {
  process.stdout.write(JSON.stringify({
    load_us: await time(load, headers.length, { rounds: 15, warmup: 3 }),
    node: process.version
  }) + '\n')
})
