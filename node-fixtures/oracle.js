'use strict'
// A long-lived Node process that answers batches for the differential fuzz tests.
// stdin:  one JSON object a line: {"op": <a function of lib/answers.js>, "cases": [...]}
// stdout: one JSON object a line: {"answers": [...]} in the order of the cases, or {"fatal": "..."}
// Cases and answers have the shape of tests/vectors/*.json (lib/wire.js for odd values).

const readline = require('readline')
const answers = require('./lib/answers')
const wire = require('./lib/wire')

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
lines.on('line', (line) => {
  let reply
  try {
    const { op, cases } = JSON.parse(line)
    const answer = answers[op]
    if (typeof answer !== 'function') throw new Error('unknown op ' + op)
    reply = { answers: cases.map((c) => wire.encode(answer(wire.decode(c)))) }
  } catch (err) {
    reply = { fatal: String(err && err.stack) }
  }
  process.stdout.write(JSON.stringify(reply) + '\n')
})
