# Drives the real clickhouse-connect against Pulseboard's /clickhouse as an analyst's notebook
# would. Reads {"host", "port", "password", "user_id"} on stdin; prints what it saw as JSON.
import json
import sys

import clickhouse_connect
from clickhouse_connect.driver.exceptions import DatabaseError

plan = json.load(sys.stdin)


def connect(password):
    return clickhouse_connect.get_client(
        host=plan["host"], port=plan["port"], proxy_path="/clickhouse",
        username="analyst", password=password)


def failure(call):
    try:
        call()
    except DatabaseError as e:
        return {"type": type(e).__name__, "message": str(e)}
    return None


out = {}
client = connect(plan["password"])
out["version"] = client.server_version
# Native, the client's default format, with a LowCardinality column and a DateTime64.
result = client.query(
    "SELECT event_name, count() AS n, min(timestamp) AS first FROM events "
    "GROUP BY event_name ORDER BY event_name")
out["columns"] = list(result.column_names)
out["types"] = [t.name for t in result.column_types]
out["rows"] = [[r[0], r[1], r[2].isoformat()] for r in result.result_rows]
# Parameters bound by the server ({name:Type}) and by the client (%(name)s).
out["server_bound"] = client.query(
    "SELECT count() FROM events WHERE user_id = {user:String}",
    parameters={"user": plan["user_id"]}).result_rows[0][0]
out["client_bound"] = client.query(
    "SELECT count() FROM events WHERE user_id = %(user)s",
    parameters={"user": plan["user_id"]}).result_rows[0][0]
out["command"] = client.command("SELECT count() FROM events")
out["drop"] = failure(lambda: client.command("DROP TABLE events"))
out["insert"] = failure(
    lambda: client.insert("events", [["x"]], column_names=["event_name"]))
out["file"] = failure(lambda: client.query("SELECT file('/etc/hostname')"))
out["wrong_password"] = failure(lambda: connect("not-the-token"))
print(json.dumps(out))
