'use strict'
// The benchmarks' Node side (bench-core.js, bench-redis.js): the best of `rounds` runs of
// `fn` after `warmup` runs, in µs per item (like pytest-benchmark's min, divided by `count`)

async function time (fn, count, { rounds, warmup }) {
  for (let i = 0; i < warmup; i++) await fn()
  let best = Infinity
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    await fn()
    best = Math.min(best, Number(process.hrtime.bigint() - start))
  }
  return best / count / 1000
}

module.exports = { time }
