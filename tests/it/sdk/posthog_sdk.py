"""Drives the real posthog (Python) client as a product does.

Reads a plan from stdin: {"url", "key", "options": {Posthog keyword arguments}, "calls": [[method,
{keyword arguments}], ...]} where method is a Posthog method (capture, set, ...) or "flush" (send
what is queued and wait). Shuts down at the end (which flushes), then prints {"errors": [...]}:
what the client's on_error saw.
"""

import json
import sys

from posthog import Posthog

plan = json.load(sys.stdin)
errors = []
client = Posthog(
    plan["key"],
    host=plan["url"],
    on_error=lambda error, batch: errors.append(str(error)),
    **plan.get("options", {}),
)
for method, kwargs in plan["calls"]:
    getattr(client, method)(**kwargs)
client.shutdown()
print(json.dumps({"errors": errors}))
