"""POSTs a body with Python requests, as an SDK's HTTP layer does, and prints every answer.

Reads {"url", "path", "mib", "times", "headers"} from stdin; sends a JSON body padded to `mib`
MiB `times` times; prints [{"status", "body"}] (status null and the exception when the request
failed instead of being answered).
"""

import json
import sys

import requests

plan = json.load(sys.stdin)
body = b'{"batch": [], "pad": "' + b" " * (plan["mib"] << 20) + b'"}'
answers = []
for _ in range(plan["times"]):
    try:
        r = requests.post(plan["url"] + plan["path"], data=body, headers=plan["headers"], timeout=60)
        try:
            answer = r.json()
        except ValueError:
            answer = r.text
        answers.append({"status": r.status_code, "body": answer})
    except requests.RequestException as e:
        answers.append({"status": None, "body": repr(e)})
print(json.dumps(answers))
