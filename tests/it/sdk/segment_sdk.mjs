// Drives the real @segment/analytics-node client as a product does.
//
// Reads a plan from stdin: {"url", "key", "options": {Analytics settings}, "calls": [[method,
// {params}], ...]} where method is an Analytics method (track, page, screen, identify, group,
// alias) or "flush" (send what is queued and wait). Closes and flushes at the end, then prints
// {"errors": [...], "statuses": [...]}: the delivery failures and each HTTP answer's status.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(process.env.PULSEBOARD_SDK_NODE + '/')
const { Analytics } = require('@segment/analytics-node')

const plan = JSON.parse(readFileSync(0, 'utf8'))
const errors = []
const statuses = []
const analytics = new Analytics({ writeKey: plan.key, host: plan.url, ...plan.options })
analytics.on('error', (e) => errors.push(String(e.reason ?? e)))
analytics.on('http_response', (r) => statuses.push(r.status))
for (const [method, params] of plan.calls) {
  if (method === 'flush') await analytics.flush()
  else analytics[method](params)
}
await analytics.closeAndFlush()
console.log(JSON.stringify({ errors, statuses }))
