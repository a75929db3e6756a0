'use strict'
// Times connect-redis 10 reads on the benchmark's own sessions, for `make bench`:
//   node bench-redis.js SESSIONS.json  ->  {"get_us": ..., "client_get_us": ..., "node": ...}
// SESSIONS.json: {"url": "redis://...", "prefix": "...", "sids": [...]}, the sessions already
// in Redis under prefix + sid. get: `await store.get(sid)` one after another (GET +
// JSON.parse), as express-session calls it; client_get: the node-redis v5 GET alone.

const fs = require('fs')
const { createClient } = require('redis')
const { RedisStore } = require('connect-redis')

// best of several rounds after a warm-up, like pytest-benchmark's min
async function time (fn, count, rounds = 10) {
  for (let i = 0; i < 2; i++) await fn()
  let best = Infinity
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    await fn()
    best = Math.min(best, Number(process.hrtime.bigint() - start))
  }
  return best / count / 1000
}

async function main () {
  const { url, prefix, sids } = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
  const client = createClient({ url })
  client.on('error', (err) => process.stderr.write('redis: ' + err + '\n'))
  await client.connect()
  const store = new RedisStore({ client, prefix })

  const getAll = async () => {
    let found = 0
    for (const sid of sids) if (await store.get(sid)) found++
    if (found !== sids.length) throw new Error('not every session was found: ' + found)
  }
  const clientGetAll = async () => {
    for (const sid of sids) await client.get(prefix + sid)
  }

  const result = {
    get_us: await time(getAll, sids.length),
    client_get_us: await time(clientGetAll, sids.length),
    node: process.version
  }
  await client.quit()
  process.stdout.write(JSON.stringify(result) + '\n')
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\n')
  process.exit(1)
})
