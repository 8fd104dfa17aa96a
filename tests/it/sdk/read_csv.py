"""Opens CSV answers as a spreadsheet would: fetched with requests, parsed with Python's csv
module (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes).

Reads {"url", "paths": [...]} from stdin; prints {path: {"status", "content_type", "rows"}}.
"""

import csv
import io
import json
import sys

import requests

plan = json.load(sys.stdin)
answers = {}
for path in plan["paths"]:
    r = requests.get(plan["url"] + path, timeout=30)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    answers[path] = {"status": r.status_code, "content_type": r.headers.get("content-type"), "rows": rows}
print(json.dumps(answers))
