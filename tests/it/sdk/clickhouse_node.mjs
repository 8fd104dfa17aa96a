// Drives the real @clickhouse/client against Pulseboard's /clickhouse, the path in its URL.
// Reads {"url", "password", "user_id"} on stdin; prints what it saw as JSON.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(process.env.PULSEBOARD_SDK_NODE + '/')
const { createClient, ClickHouseError } = require('@clickhouse/client')

const plan = JSON.parse(readFileSync(0, 'utf8'))
const connect = (password) =>
  createClient({ url: `${plan.url}/?pathname=/clickhouse`, username: 'analyst', password, log: { level: 127 } })
const failure = async (call) => {
  try {
    await call()
    return null
  } catch (e) {
    return { clickhouse_error: e instanceof ClickHouseError, code: e.code, type: e.type, message: e.message }
  }
}

const out = {}
const client = connect(plan.password)
out.ping = (await client.ping()).success
// JSON, the client's default format for query().
const json = await client.query({
  query: 'SELECT event_name, count() AS n FROM events GROUP BY event_name ORDER BY event_name',
})
out.json = (await json.json()).data
const rows = await client.query({
  query: 'SELECT count() AS n FROM events WHERE user_id = {user: String}',
  query_params: { user: plan.user_id },
  format: 'JSONEachRow',
})
out.bound = (await rows.json())[0].n
out.drop = await failure(() => client.command({ query: 'DROP TABLE events' }))
out.insert = await failure(() =>
  client.insert({ table: 'events', values: [{ event_name: 'x' }], format: 'JSONEachRow' }))
const stranger = connect('not-the-token')
out.wrong_password = await failure(() => stranger.query({ query: 'SELECT 1' }))
await client.close()
await stranger.close()
console.log(JSON.stringify(out))
