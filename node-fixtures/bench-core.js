'use strict'
// Times Node on the benchmark's own headers, for `make bench`:
//   node bench-core.js < HEADERS.json  ->  {"getcookie_us": ..., "unsign_us": ...} per header
// HEADERS.json: {"name": ..., "secrets": [...], "headers": [...], "signed": [...]}
// getcookie: cookie.parse + cookie-signature.unsign over the secrets in turn, as
// express-session's getcookie does; unsign: the unsign loop alone on the signed values.

const cookie = require('cookie')
const signature = require('cookie-signature')
const { run, input } = require('./lib/run')
const { time } = require('./lib/bench')

const { name, secrets, headers, signed } = input()

function unsignAny (value) {
  for (const secret of secrets) {
    const result = signature.unsign(value, secret)
    if (result !== false) return result
  }
  return false
}

function getcookie () {
  let found = 0
  for (const header of headers) {
    const raw = cookie.parse(header)[name]
    if (raw && raw.substr(0, 2) === 's:' && unsignAny(raw.slice(2)) !== false) found++
  }
  if (found !== headers.length) throw new Error('not every header verified: ' + found)
}

function unsignOnly () {
  let found = 0
  for (const value of signed) if (unsignAny(value) !== false) found++
  if (found !== signed.length) throw new Error('not every value verified')
}

run(async () => {
  const rounds = { rounds: 15, warmup: 3 }
  process.stdout.write(JSON.stringify({
    getcookie_us: await time(getcookie, headers.length, rounds),
    unsign_us: await time(unsignOnly, signed.length, rounds),
    node: process.version
  }) + '\n')
})
