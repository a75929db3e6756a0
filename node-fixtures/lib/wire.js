'use strict'
// How values that JSON cannot hold travel between Node and Python (both directions):
//   {"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}   a JS number
//   {"$date": <ms since epoch>}                              a JS Date
//   {"$buffer": "<base64>"}                                  a Node Buffer
//   {"$undefined": true}                                     undefined
// Everything else is plain JSON. Python's tests/wire.py is the other half.

// an own property, even for the key "__proto__" (plain assignment would set the prototype)
function own (object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

function encode (value) {
  if (value === undefined) return { $undefined: true }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { $number: 'NaN' }
    if (value === Infinity) return { $number: 'Infinity' }
    if (value === -Infinity) return { $number: '-Infinity' }
    if (Object.is(value, -0)) return { $number: '-0' }
    return value
  }
  if (value instanceof Date) return { $date: value.getTime() }
  if (Buffer.isBuffer(value)) return { $buffer: value.toString('base64') }
  if (Array.isArray(value)) return value.map(encode)
  if (value !== null && typeof value === 'object') {
    const out = {}
    for (const key of Object.keys(value)) own(out, key, encode(value[key]))
    return out
  }
  return value
}

function decode (value) {
  if (Array.isArray(value)) return value.map(decode)
  if (value !== null && typeof value === 'object') {
    if ('$number' in value) return Number(value.$number)
    if ('$date' in value) return new Date(value.$date)
    if ('$buffer' in value) return Buffer.from(value.$buffer, 'base64')
    if ('$undefined' in value) return undefined
    const out = {}
    for (const key of Object.keys(value)) own(out, key, decode(value[key]))
    return out
  }
  return value
}

module.exports = { encode, decode }
