"""The differential runner's engine: one request sequence sent to two servers, answers compared.

A step is a dict: `id` (unique, names it in the allow-list), `method`, `path`, and optionally
`params` (query string), `json` (body, sent as JSON, also on GET), `data` (raw body), `headers`,
`save` ({var: dotted path into the JSON answer}). Strings may hold `<<var>>` placeholders, filled
in per server from what earlier steps saved (ids differ between the two servers; names do not).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field

import requests

PLACEHOLDER = re.compile(r"<<(\w+)>>")

# Fields whose values are the server's own choice (ids, clocks, locations): compared by presence only.
VOLATILE_KEYS = {
    "run_id", "run_uuid", "experiment_id", "experimentId", "runId", "runUuid", "model_id", "modelId",
    "start_time", "end_time", "creation_time", "last_update_time", "creation_timestamp",
    "last_updated_timestamp", "timestamp", "startTime", "endTime", "creationTime", "lastUpdateTime",
    "creationTimestamp", "lastUpdatedTimestamp", "artifact_uri", "artifactUri", "artifact_location",
    "artifactLocation", "root_uri", "rootUri", "user_id", "userId", "next_page_token", "nextPageToken",
    "run_link", "storage_location", "source_run_id",
}


@dataclass
class Server:
    name: str
    url: str
    vars: dict = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session)


@dataclass
class Answer:
    status: int
    body: object  # parsed JSON, or the text when the answer is not JSON
    headers: dict


def fill(value, vars_: dict):
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: str(vars_.get(m.group(1), m.group(0))), value)
    if isinstance(value, list):
        return [fill(v, vars_) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, vars_) for k, v in value.items()}
    return value


def send(server: Server, step: dict) -> Answer:
    method = step.get("method", "GET")
    url = server.url + fill(step["path"], server.vars)
    kwargs: dict = {"timeout": 60, "headers": fill(dict(step.get("headers", {})), server.vars)}
    if "params" in step:
        kwargs["params"] = fill(step["params"], server.vars)
    if "json" in step:
        kwargs["data"] = json.dumps(fill(step["json"], server.vars))
        kwargs["headers"].setdefault("Content-Type", "application/json")
    if "data" in step:
        kwargs["data"] = fill(step["data"], server.vars)
    r = server.session.request(method, url, **kwargs)
    try:
        body = r.json()
    except ValueError:
        body = r.text
    answer = Answer(r.status_code, body, {k.lower(): v for k, v in r.headers.items()})
    for var, path in step.get("save", {}).items():
        value = dig(body, path)
        if value is not None:
            server.vars[var] = value
    return answer


def dig(body, path: str):
    cur = body
    for part in path.split("."):
        if isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
    return cur


# A number after "at most", "at least", "more than" or "less than" is a limit, not an id: an experiment
# whose id was 100 turned "at most 100 run_ids" into "at most <<exp>> run_ids" on one server only.
QUANTITY = r"(?<!most )(?<!least )(?<!than )"


def normalise(body, vars_: dict, volatile=(), json_text=(), unordered=(), short_ids=()):
    """Volatile values become placeholders; saved ids inside strings become their variable names.
    A step may name more volatile keys (`volatile`) and fields whose string value is JSON text
    (`json_text`: GenAI messages carry records and tags so), compared as the JSON they hold, and
    lists whose order is the server's choice (`unordered`: records created in the same millisecond
    are ordered by their random ids). `short_ids` names saved variables (experiment ids: "2") to
    replace in text even though they are short, as whole words only."""
    volatile_keys = VOLATILE_KEYS | set(volatile)
    # Longest first, so an id that contains another is replaced whole.
    known = sorted(((str(v), k) for k, v in vars_.items() if isinstance(v, (str, int)) and len(str(v)) >= 3), key=lambda kv: -len(kv[0]))

    def walk(v, key=None):
        if key in json_text and isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                pass
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            items = [walk(x, key) for x in v]
            if key in unordered:
                items.sort(key=lambda x: json.dumps(x, sort_keys=True))
            # Keyed lists (tags, params, a run's latest metrics) have no order in the contract; a
            # metric history does (same key throughout), so it keeps its order.
            if items and all(isinstance(x, dict) and "key" in x for x in items) and len({x["key"] for x in items}) == len(items):
                items.sort(key=lambda x: json.dumps(x, sort_keys=True))
            return items
        if key in volatile_keys and v not in (None, "", [], {}):
            return f"<{key}>"
        if isinstance(v, str):
            for value, name in known:
                # A short value (an experiment id: "123") only as a whole word: inside a longer id
                # ("0123456789abcdef") it is not that id. Long ones (run ids) also inside paths.
                if len(value) < 8:
                    v = re.sub(rf"{QUANTITY}(?<![\w-]){re.escape(value)}(?![\w-])", f"<<{name}>>", v)
                else:
                    v = v.replace(value, f"<<{name}>>")
            for name in short_ids:
                if name in vars_:
                    v = re.sub(rf"{QUANTITY}(?<![\w-]){re.escape(str(vars_[name]))}(?![\w-])", f"<<{name}>>", v)
        return v

    return walk(copy.deepcopy(body))


def drop(body, paths: list[str]):
    """Removes allow-listed fields (dotted paths; `*` matches every list item or key; a key with dots
    in it is matched by the whole rest of the path)."""
    body = copy.deepcopy(body)
    for path in paths:
        _drop(body, path.split("."))
    return body


def _drop(cur, parts):
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(cur, list):
        targets = cur if head == "*" else ([cur[int(head)]] if head.isdigit() and int(head) < len(cur) else [])
        for t in targets:
            _drop(t, rest)
    elif isinstance(cur, dict):
        # A key holding dots (a tag's name: `mlflow.traceName`) is the rest of the path whole.
        if head != "*" and ".".join(parts) in cur:
            cur.pop(".".join(parts))
            return
        if not rest:
            if head == "*":
                cur.clear()
            else:
                cur.pop(head, None)
        else:
            keys = list(cur) if head == "*" else [head]
            for k in keys:
                if k in cur:
                    _drop(cur[k], rest)


def differences(step: dict, ref: Answer, ref_vars: dict, got: Answer, got_vars: dict, allowed: dict | None) -> list[str]:
    """What differs between MLflow's answer (ref) and Cairn's (got), after the allow-list entry."""
    out = []
    allowed = allowed or {}
    if ref.status != got.status and not allowed.get("status"):
        out.append(f"status: mlflow {ref.status}, cairn {got.status}")
    if allowed.get("body"):
        return out
    extra = (step.get("volatile", ()), step.get("json_text", ()), step.get("unordered", ()), step.get("short_ids", ()))
    a = drop(normalise(ref.body, ref_vars, *extra), allowed.get("fields", []))
    b = drop(normalise(got.body, got_vars, *extra), allowed.get("fields", []))
    if isinstance(a, str) and isinstance(b, str):
        # Non-JSON answers (Flask's HTML error pages, file bodies) are compared by status only,
        # unless the step asks for its text to be compared.
        if step.get("compare_text") and a != b:
            out.append(f"text: mlflow {a[:200]!r}, cairn {b[:200]!r}")
    elif a != b:
        out.append(f"body:\n  mlflow {json.dumps(a, sort_keys=True)[:1500]}\n  cairn  {json.dumps(b, sort_keys=True)[:1500]}")
    for h in step.get("compare_headers", []):
        if ref.headers.get(h) != got.headers.get(h) and h not in allowed.get("headers", []):
            out.append(f"header {h}: mlflow {ref.headers.get(h)!r}, cairn {got.headers.get(h)!r}")
    return out
