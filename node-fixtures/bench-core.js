'use strict'
// Times Node on the benchmark's own headers, for `make bench`:
//   node bench-core.js HEADERS.json  ->  {"getcookie_us": ..., "unsign_us": ...} per header
// HEADERS.json: {"name": ..., "secrets": [...], "headers": [...], "signed": [...]}
// getcookie: cookie.parse + cookie-signature.unsign over the secrets in turn, as
// express-session's getcookie does; unsign: the unsign loop alone on the signed values.

const fs = require('fs')
const cookie = require('cookie')
const signature = require('cookie-signature')

const { name, secrets, headers, signed } = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))

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

// best of several rounds after a warm-up, like pytest-benchmark's min
function time (fn, count, rounds = 15) {
  for (let i = 0; i < 3; i++) fn()
  let best = Infinity
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    fn()
    const ns = Number(process.hrtime.bigint() - start)
    best = Math.min(best, ns)
  }
  return best / count / 1000
}

process.stdout.write(JSON.stringify({
  getcookie_us: time(getcookie, headers.length),
  unsign_us: time(unsignOnly, signed.length),
  node: process.version
}) + '\n')
