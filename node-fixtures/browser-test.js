'use strict'
// Drive headless Chromium (Debian's, through playwright-core) through the page of
// browser-app.js: visit, log in, log out; after each step wait (bounded) for the page's
// realtime connection to the Python server to settle and record what the page shows.
//
//   node browser-test.js < config.json
//
// config: {
//   url,                       the page, with its query (?server=...&transport=...&kind=...)
//   steps: ["visit", "login", "logout"],   in order; "visit" opens url, the others click
//   user?: "ada",              the name typed into the login form
//   timeout_ms?: 10000,        per step
//   screenshot?: "/tmp/x",     a PNG per step: <screenshot>-<step>.png (and on a crash)
//   executable?: "/usr/bin/chromium"
// }
//
// It prints one JSON line: {browser, steps: [{step, state, status, detail, transport,
// cookies, document_cookie, packets, screenshot, ms}], console, page_errors, failed_requests, ms}.
// A step that does not settle in time has state "timeout" and ends the run. The exit status
// is 0 whenever the browser ran; the caller judges the result.

const { chromium } = require('playwright-core')
const { run, input } = require('./lib/run')

// Debian's chromium as root, on a machine with no outside network: no sandbox (root), and
// none of the background connections that the closed network refuses
const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]
const SETTLED = ['session', 'error', 'closed']

async function settle (page, timeout) {
  try {
    await page.waitForFunction(
      (settled) => settled.includes(document.body && document.body.dataset.state),
      SETTLED,
      { timeout, polling: 25 }
    )
  } catch (err) {
    if (err.name !== 'TimeoutError') throw err
    return false
  }
  return true
}

async function snapshot (page, context) {
  return page.evaluate(() => ({
    state: document.body.dataset.state,
    logged_in: document.body.dataset.loggedIn,
    status: document.getElementById('status').textContent,
    detail: document.getElementById('detail').textContent,
    transport: window.pageSocket
      ? (window.pageSocket.io ? window.pageSocket.io.engine.transport.name : window.pageSocket.transport && window.pageSocket.transport.name)
      : null,
    document_cookie: document.cookie,
    packets: window.pagePackets || []
  })).then(async (shown) => ({
    ...shown,
    cookies: (await context.cookies()).map(({ name, domain, path, httpOnly, secure, sameSite, expires }) =>
      ({ name, domain, path, httpOnly, secure, sameSite, expires }))
  }))
}

run(async () => {
  const config = input()
  const timeout = config.timeout_ms || 10000
  const started = Date.now()
  const result = { browser: null, steps: [], console: [], page_errors: [], failed_requests: [] }
  const browser = await chromium.launch({
    executablePath: config.executable || '/usr/bin/chromium',
    args: ARGS,
    timeout: 30000
  })
  try {
    result.browser = browser.version()
    const context = await browser.newContext({ viewport: { width: 800, height: 500 } })
    const page = await context.newPage()
    page.setDefaultTimeout(timeout)
    page.on('console', (message) => result.console.push(message.type() + ': ' + message.text()))
    page.on('pageerror', (err) => result.page_errors.push(String(err)))
    page.on('requestfailed', (request) =>
      result.failed_requests.push(request.method() + ' ' + request.url() + ': ' + (request.failure() || {}).errorText))
    for (const step of config.steps) {
      const stepStarted = Date.now()
      try {
        if (step === 'visit') {
          await page.goto(config.url)
        } else if (step === 'login') {
          await page.fill('#user', config.user || 'ada')
          await Promise.all([page.waitForURL(/\/(\?|$)/), page.click('#login-button')])
          await page.waitForSelector('#account')
        } else if (step === 'logout') {
          await Promise.all([page.waitForURL(/\/(\?|$)/), page.click('#logout-button')])
          await page.waitForSelector('#login')
        } else {
          throw new Error('unknown step ' + step)
        }
      } catch (err) {
        result.steps.push({ step, state: 'failed', error: String(err), ms: Date.now() - stepStarted })
        break
      }
      const settled = await settle(page, timeout)
      const shown = await snapshot(page, context)
      if (!settled) shown.state = 'timeout (' + shown.state + ')'
      shown.step = step
      shown.ms = Date.now() - stepStarted
      if (config.screenshot) {
        shown.screenshot = config.screenshot + '-' + step + '.png'
        await page.screenshot({ path: shown.screenshot })
      }
      result.steps.push(shown)
      if (!settled) break
    }
    const last = result.steps[result.steps.length - 1]
    if (config.screenshot && last && last.screenshot === undefined) {
      last.screenshot = config.screenshot + '-' + last.step + '.png'
      await page.screenshot({ path: last.screenshot }).catch(() => { last.screenshot = null })
    }
  } finally {
    await browser.close()
  }
  result.ms = Date.now() - started
  process.stdout.write(JSON.stringify(result) + '\n')
})
