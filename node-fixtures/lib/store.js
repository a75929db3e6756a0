'use strict'
// The Node store an Express fixture app runs on (session-server.js, browser-app.js):
//   {type: "redis", url, prefix?, ttl?, disableTTL?, disableTouch?}
//   {type: "redis-cluster", nodes: ["redis://127.0.0.1:7001", ...], prefix?, ...}
//   {type: "file", path, ttl?, secret?, fileExtension?, retries?}
//   {type: "pg", url, tableName?, schemaName?, ttl?, disableTouch?, createTableIfMissing?}
//   {type: "mysql", host, port, user, password, database, schema?: {tableName, columnNames},
//    expiration?, disableTouch?, createDatabaseTable? (false unless asked)}
// -> {store, raw(sid): the stored bytes as a string or null, ttl(sid): Redis TTL, or the
//    SQL row's expiry column in Unix seconds (null: no row), close()}

const fs = require('fs')
const path = require('path')
const session = require('express-session')

async function makeStore (config) {
  const type = config.type
  if (type === 'redis' || type === 'redis-cluster') {
    const { createClient, createCluster } = require('redis')
    const { RedisStore } = require('connect-redis')
    const client = type === 'redis'
      ? createClient({ url: config.url })
      : createCluster({ rootNodes: config.nodes.map((url) => ({ url })) })
    client.on('error', (err) => process.stderr.write('redis: ' + err + '\n'))
    await client.connect()
    const store = new RedisStore({
      client,
      prefix: config.prefix,
      ttl: config.ttl,
      disableTTL: config.disableTTL,
      disableTouch: config.disableTouch
    })
    return {
      store,
      raw: (sid) => client.get(store.prefix + sid),
      ttl: (sid) => client.ttl(store.prefix + sid),
      close: () => client.quit ? client.quit() : client.close()
    }
  }
  if (type === 'file') {
    const FileStore = require('session-file-store')(session)
    const options = { path: config.path, reapInterval: -1, logFn: () => {} }
    for (const key of ['ttl', 'secret', 'fileExtension', 'retries']) {
      if (config[key] !== undefined) options[key] = config[key]
    }
    return {
      store: new FileStore(options),
      raw: async (sid) => {
        try {
          return fs.readFileSync(path.join(config.path, sid + (config.fileExtension ?? '.json')), 'utf8')
        } catch (err) {
          if (err.code === 'ENOENT') return null
          throw err
        }
      },
      ttl: async () => { throw new Error('no TTL in a file store') },
      close: async () => {}
    }
  }
  if (type === 'pg') {
    const { Pool } = require('pg')
    const PGStore = require('connect-pg-simple')(session)
    const pool = new Pool({ connectionString: config.url })
    pool.on('error', (err) => process.stderr.write('pg: ' + err + '\n'))
    const options = { pool, pruneSessionInterval: false, errorLog: () => {} }
    for (const key of ['tableName', 'schemaName', 'ttl', 'disableTouch', 'createTableIfMissing']) {
      if (config[key] !== undefined) options[key] = config[key]
    }
    const store = new PGStore(options)
    const column = async (sql, sid) => {
      const result = await pool.query(`SELECT ${sql} AS v FROM ${store.quotedTable()} WHERE sid = $1`, [sid])
      return result.rows.length ? result.rows[0].v : null
    }
    return {
      store,
      raw: (sid) => column('sess::text', sid),
      ttl: (sid) => column('extract(epoch FROM expire::timestamptz)::float8', sid),
      close: async () => { await store.close(); await pool.end() }
    }
  }
  if (type === 'mysql') {
    const MySQLStore = require('express-mysql-session')(session)
    const options = { clearExpired: false, createDatabaseTable: false }
    for (const key of ['host', 'port', 'user', 'password', 'database', 'schema', 'expiration',
      'disableTouch', 'createDatabaseTable']) {
      if (config[key] !== undefined) options[key] = config[key]
    }
    const store = new MySQLStore(options)
    await store.onReady()
    const { tableName, columnNames } = store.options.schema
    const column = async (name, sid) => {
      const [rows] = await store.query('SELECT ?? AS v FROM ?? WHERE ?? = ?',
        [name, tableName, columnNames.session_id, sid])
      return rows.length ? rows[0].v : null
    }
    return {
      store,
      raw: (sid) => column(columnNames.data, sid),
      ttl: (sid) => column(columnNames.expires, sid),
      close: () => store.close()
    }
  }
  throw new Error('unknown store type ' + type)
}

module.exports = { makeStore }
