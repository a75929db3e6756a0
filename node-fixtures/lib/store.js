'use strict'
// The Node store an Express fixture app runs on (session-server.js, browser-app.js):
//   {type: "redis", url, prefix?, ttl?, disableTTL?, disableTouch?}
//   {type: "redis-cluster", nodes: ["redis://127.0.0.1:7001", ...], prefix?, ...}
//   {type: "file", path, ttl?, secret?, fileExtension?, retries?}
//   {type: "pg", url, tableName?, schemaName?, ttl?, disableTouch?, createTableIfMissing?}
//   {type: "mysql", host, port, user, password, database, schema?: {tableName, columnNames},
//    expiration?, disableTouch?, createDatabaseTable? (false unless asked)}
//   {type: "knex", client: "pg" | "mysql2" | "better-sqlite3", url (pg) | host, port, user,
//    password, database (mysql2) | filename (better-sqlite3), tableName?, sidFieldName?,
//    createTable? (false unless asked), cleanupInterval? (0: none unless asked), plain?,
//    rejections?}
//   {type: "sequelize", dialect: "postgres" | "mysql", url, tableName?, expiration?,
//    disableTouch?, sync? (store.sync(): create the table), checkExpirationInterval? (0), plain?}
// -> {store, raw(sid): the stored bytes as a string or null, ttl(sid): Redis TTL, or the
//    SQL row's expiry column in Unix seconds (null: no row), close()}
//
// knex and sequelize: the control channel's set/touch hand the store the session as
// express-session does (its cookie a Cookie, as Store#createSession makes it), unless
// `plain`: connect-session-knex reads `cookie.maxAge` (a Cookie getter) and
// connect-session-sequelize tests `!isNaN(cookie.expires)` (true of a Date only), so with
// the plain JSON cookie both write "now + one day" whatever the cookie says.
// knex: connect-session-knex's methods call back with an error *and* reject the promise
// they return, which express-session ignores: under Node >= 15 that unhandled rejection
// ends the process at the first failed query. The fixture handles those promises, unless
// `rejections` (the package as it is).

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
  if (type === 'knex') return knexStore(config)
  if (type === 'sequelize') return sequelizeStore(config)
  throw new Error('unknown store type ' + type)
}

function asExpressSession (sess) {
  // express-session's Store#createSession, without the request
  if (!sess || !sess.cookie || sess.cookie instanceof session.Cookie) return sess
  const { expires, originalMaxAge } = sess.cookie
  sess.cookie = new session.Cookie(sess.cookie)
  if (typeof expires === 'string') sess.cookie.expires = new Date(expires)
  sess.cookie.originalMaxAge = originalMaxAge
  return sess
}

function harness (store, config) {
  if (!config.plain) {
    for (const method of ['set', 'touch']) {
      const original = store[method].bind(store)
      store[method] = (sid, sess, ...rest) => original(sid, asExpressSession(sess), ...rest)
    }
  }
  if (config.type === 'knex' && !config.rejections) {
    for (const method of ['get', 'set', 'touch', 'destroy', 'length', 'clear', 'all']) {
      const original = store[method].bind(store)
      store[method] = (...args) => {
        const result = original(...args)
        if (typeof args[args.length - 1] === 'function') result.catch(() => {}) // called back
        return result
      }
    }
  }
  return store
}

function unixSeconds (value) {
  // a DATETIME read as its text (UTC wall-clock time), a timestamptz as epoch seconds, an
  // SQLite ISO text
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return value
  const text = String(value)
  return Date.parse(/^\d{4}-\d\d-\d\d \d/.test(text) ? text.replace(' ', 'T') + 'Z' : text) / 1000
}

async function knexStore (config) {
  const knex = require('knex')
  const { ConnectSessionKnexStore } = require('connect-session-knex')
  const connection = config.client === 'pg'
    ? config.url
    : config.client === 'mysql2'
      ? { host: config.host, port: config.port, user: config.user, password: config.password, database: config.database }
      : { filename: config.filename }
  const db = knex({ client: config.client, connection, useNullAsDefault: true })
  const options = { knex: db, createTable: false, cleanupInterval: 0, onDbCleanupError: () => {} }
  for (const key of ['tableName', 'sidFieldName', 'createTable', 'cleanupInterval']) {
    if (config[key] !== undefined) options[key] = config[key]
  }
  const store = new ConnectSessionKnexStore(options)
  try {
    await store.ready // a missing table (createTable: false) rejects it
  } catch (err) {
    await db.destroy()
    throw err
  }
  const { tableName, sidFieldName } = store.options
  const expired = config.client === 'pg'
    ? 'extract(epoch FROM ??)::float8'
    : config.client === 'mysql2' ? 'CAST(?? AS CHAR)' : '??'
  const column = async (sql, name, sid) => {
    const rows = await db(tableName).select(db.raw(sql + ' AS v', [name])).where(sidFieldName, sid)
    return rows.length ? rows[0].v : null
  }
  return {
    store: harness(store, config),
    raw: (sid) => column(config.client === 'pg' ? '??::text' : '??', 'sess', sid),
    ttl: async (sid) => unixSeconds(await column(expired, 'expired', sid)),
    close: () => db.destroy()
  }
}

async function sequelizeStore (config) {
  const { Sequelize } = require('sequelize')
  const SequelizeStore = require('connect-session-sequelize')(session.Store)
  const db = new Sequelize(config.url, { dialect: config.dialect, logging: false })
  const options = { db, checkExpirationInterval: 0 }
  for (const key of ['tableName', 'expiration', 'disableTouch', 'checkExpirationInterval']) {
    if (config[key] !== undefined) options[key] = config[key]
  }
  const store = new SequelizeStore(options)
  if (config.sync) await store.sync()
  const sql = db.getQueryInterface().queryGenerator
  const table = sql.quoteTable(store.sessionModel.getTableName())
  const expires = config.dialect === 'postgres'
    ? 'extract(epoch FROM "expires")::float8'
    : 'CAST(`expires` AS CHAR)'
  const column = async (expr, sid) => {
    const [rows] = await db.query(`SELECT ${expr} AS v FROM ${table} WHERE ${sql.quoteIdentifier('sid')} = ?`,
      { replacements: [sid] })
    return rows.length ? rows[0].v : null
  }
  return {
    store: harness(store, config),
    raw: (sid) => column(sql.quoteIdentifier('data'), sid),
    ttl: async (sid) => unixSeconds(await column(expires, sid)),
    close: async () => { store.stopExpiringSessions(); await db.close() }
  }
}

module.exports = { makeStore }
