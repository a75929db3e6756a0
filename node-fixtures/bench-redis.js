'use strict'
// Times connect-redis 10 reads on the benchmark's own sessions, for `make bench`:
//   node bench-redis.js < SESSIONS.json  ->  {"get_us", "client_get_us", "set_us", "node"}
// SESSIONS.json: {"url": "redis://...", "prefix": "...", "sids": [...]}, the sessions already
// in Redis under prefix + sid. get: `await store.get(sid)` one after another (GET +
// JSON.parse), as express-session calls it; client_get: the node-redis v5 GET alone.

const { createClient } = require('redis')
const { RedisStore } = require('connect-redis')
const { run, input } = require('./lib/run')
const { time } = require('./lib/bench')

run(async () => {
  const { url, prefix, sids } = input()
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

  // set: express-session's save of a loaded session (the whole object, SET ... EX)
  const loaded = []
  for (const sid of sids) loaded.push(await store.get(sid))
  const setAll = async () => {
    for (let i = 0; i < sids.length; i++) {
      loaded[i].lastSeen = i
      await store.set(sids[i], loaded[i])
    }
  }

  const rounds = { rounds: 10, warmup: 2 }
  const result = {
    get_us: await time(getAll, sids.length, rounds),
    client_get_us: await time(clientGetAll, sids.length, rounds),
    set_us: await time(setAll, sids.length, rounds),
    node: process.version
  }
  await client.quit()
  process.stdout.write(JSON.stringify(result) + '\n')
})
