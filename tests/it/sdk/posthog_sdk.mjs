// Drives the real posthog-node client as a product does.
//
// Reads a plan from stdin: {"url", "key", "options": {PostHog options}, "calls": [[method,
// {params}], ...]} where method is a PostHog method taking one object (capture, identify, ...),
// "captureException" ({message, distinctId, properties}: an Error thrown by the product) or
// "flush" (send what is queued and wait). Shuts down at the end (which flushes), then prints
// {"errors": [...]}: what the client reported through its `error` event.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(process.env.PULSEBOARD_SDK_NODE + '/')
const { PostHog } = require('posthog-node')

const plan = JSON.parse(readFileSync(0, 'utf8'))
const errors = []
const client = new PostHog(plan.key, { host: plan.url, ...plan.options })
client.on('error', (e) => errors.push(String(e?.message ?? e)))
for (const [method, params] of plan.calls) {
  if (method === 'flush') await client.flush().catch((e) => errors.push(String(e?.message ?? e)))
  else if (method === 'captureException')
    client.captureException(new Error(params.message), params.distinctId, params.properties)
  else client[method](params)
}
await client.shutdown()
console.log(JSON.stringify({ errors }))
