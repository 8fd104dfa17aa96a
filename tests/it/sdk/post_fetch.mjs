// POSTs a body with Node's fetch, as the Node SDKs do, and prints every answer.
//
// Reads {"url", "path", "mib", "times", "headers"} from stdin; sends a JSON body padded to `mib`
// MiB `times` times; prints [{"status", "body"}] (status null and the error when the request
// failed instead of being answered).
import { readFileSync } from 'node:fs'

const plan = JSON.parse(readFileSync(0, 'utf8'))
const body = '{"batch": [], "pad": "' + ' '.repeat(plan.mib << 20) + '"}'
const answers = []
for (let i = 0; i < plan.times; i++) {
  try {
    const r = await fetch(plan.url + plan.path, { method: 'POST', body, headers: plan.headers })
    const text = await r.text()
    let answer = text
    try {
      answer = JSON.parse(text)
    } catch {}
    answers.push({ status: r.status, body: answer })
  } catch (e) {
    answers.push({ status: null, body: String(e?.cause ?? e) })
  }
}
console.log(JSON.stringify(answers))
