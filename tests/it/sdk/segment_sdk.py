"""Drives the real segment-analytics-python client as a product does.

Reads a plan from stdin: {"url", "key", "options": {Client keyword arguments}, "calls": [[method,
{keyword arguments}], ...]} where method is a Client method (track, page, screen, identify,
group, alias) or "flush" (send what is queued and wait). Flushes and shuts down at the end, then
prints {"errors": [...]}: what the client's on_error saw.
"""

import json
import sys

from segment.analytics import Client

plan = json.load(sys.stdin)
errors = []
client = Client(
    write_key=plan["key"],
    host=plan["url"],
    on_error=lambda error, batch: errors.append(str(error)),
    **plan.get("options", {}),
)
for method, kwargs in plan["calls"]:
    getattr(client, method)(**kwargs)
client.flush()
client.shutdown()
print(json.dumps({"errors": errors}))
