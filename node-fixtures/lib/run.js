'use strict'
// How a fixture script runs under the tests (tests/node.py, tests/procs.py):
//   run(main)            an async main; a failure prints its stack and exits 1
//   input()              the JSON the test wrote to stdin (tests/node.py run_json)
//   listen(handler, port)   an HTTP server on 127.0.0.1, then the one line {"port": N}
//   exitWhenStdinEnds(listener, backend, pending)   the test closed stdin: let `pending()`
//                        settle, close the server and the store, exit 0

const fs = require('fs')
const http = require('http')

function run (main) {
  main().catch((err) => {
    process.stderr.write(String((err && err.stack) || err) + '\n')
    process.exit(1)
  })
}

function input () {
  // at once, from the test's (blocking) pipe: parsed from chunks read asynchronously, the
  // strings made bench-core.js time about 10% slower
  return JSON.parse(fs.readFileSync(0, 'utf8'))
}

async function listen (handler, port) {
  const listener = http.createServer(handler)
  await new Promise((resolve) => listener.listen(port || 0, '127.0.0.1', resolve))
  process.stdout.write(JSON.stringify({ port: listener.address().port }) + '\n')
  return listener
}

function exitWhenStdinEnds (listener, backend, pending = () => null) {
  process.stdin.on('end', async () => {
    await pending()
    listener.close()
    listener.closeAllConnections()
    await backend.close()
    process.exit(0)
  })
  process.stdin.resume()
}

module.exports = { run, input, listen, exitWhenStdinEnds }
