'use strict'
// Times the Node SQL stores' reads on the benchmark's own sessions, for `make bench`:
//   node bench-sql.js < INPUT.json  ->  {"get_us": ..., "node": ...}
// INPUT.json: {"store": {type: "pg" | "mysql" | "knex" | "sequelize", ...} (lib/store.js),
// "sids": [...]}, the sessions already in the table. get: `store.get(sid, cb)` one after
// another, as express-session calls it (connect-pg-simple: SELECT + pg's JSON.parse of the
// json column; express-mysql-session: SELECT, the expiry check, JSON.parse;
// connect-session-knex: knex's query builder, SELECT with the expiry condition, JSON.parse
// where the driver hands text; connect-session-sequelize: findOne (a model instance),
// JSON.parse).

const { makeStore } = require('./lib/store')
const { run, input } = require('./lib/run')
const { time } = require('./lib/bench')

run(async () => {
  const { store: config, sids } = input()
  const backend = await makeStore(config)
  const get = (sid) => new Promise((resolve, reject) => {
    backend.store.get(sid, (err, sess) => err ? reject(err) : resolve(sess))
  })
  const getAll = async () => {
    let found = 0
    for (const sid of sids) if (await get(sid)) found++
    if (found !== sids.length) throw new Error('not every session was found: ' + found)
  }
  const result = {
    get_us: await time(getAll, sids.length, { rounds: 10, warmup: 2 }),
    node: process.version
  }
  await backend.close()
  process.stdout.write(JSON.stringify(result) + '\n')
})
