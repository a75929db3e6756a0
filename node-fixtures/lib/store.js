'use strict'
// The Node store an Express fixture app runs on (session-server.js, browser-app.js):
//   {type: "redis", url, prefix?, ttl?, disableTTL?, disableTouch?}
//   {type: "redis-cluster", nodes: ["redis://127.0.0.1:7001", ...], prefix?, ...}
//   {type: "file", path, ttl?, secret?, fileExtension?, retries?}
// -> {store, raw(sid): the stored bytes as a string or null, ttl(sid): Redis TTL, close()}

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
  throw new Error('unknown store type ' + type)
}

module.exports = { makeStore }
