#!/usr/bin/python3
"""webapp-jobs: runs the app's timed jobs once per scheduled slot across the fleet.

A slot is (job, scheduled minute UTC). Each slot is claimed in the environment's DynamoDB table with a
conditional write, by one instance; that claim, not a Redis key, is what makes a slot run once. Redis keeps
its role as the lock a running job holds (`SET lock:<job> <token> NX PX`, renewed, compare-and-delete), which
keeps two slots of one job from running at once while Redis keeps the key; when Redis is unreachable or
refuses, the job runs on its claim alone, logged and counted (metric LockFailures).

  webapp-jobs tick                 claim due slots and start them (cron runs it every minute)
  webapp-jobs drain [--timeout S]  stop claiming; see "Drain" below
  webapp-jobs status [JOB]         the slots this instance would look at, with their state
  webapp-jobs config               each job's timing as the runner reads it (JSON)
  webapp-jobs slots SCHEDULE FROM TO   a schedule's slots in (FROM, TO], epoch seconds (diagnostics, tests)

Options: --config FILE (default /etc/webapp/jobs.json, written by the boot).

The job: runs with its command, in the current directory and environment (the cron line runs this under
webapp-env: the app's directory and env file), plus JOB_NAME, JOB_SLOT (the scheduled minute,
YYYY-MM-DDTHH:MMZ), JOB_ATTEMPT (1 for the first attempt) and JOB_FENCING_TOKEN (a number that grows with
every claim of the slot: a write tagged with a lower token than one already stored comes from a holder that
lost its claim). It is stopped (TERM, then KILL after the kill grace) after maxRunSeconds. Exactly once: the
claim of a slot and its recorded completion. At least once: the execution, because a holder that dies
mid-run is retried elsewhere once its lease lapses. So a job must be idempotent per JOB_SLOT.

Lifecycle of a slot (item job, slot in the table): no item -> running (claimed, with a lease the holder renews
every leaseSeconds/4) -> done | failed (retried after retryBackoffSeconds, doubling, while attempts are left)
| dead (final failure) | released (given back by a drain; claimed again without using an attempt). A running
slot whose lease lapsed is claimed again (counted as a lease loss, and as an attempt). A holder that cannot
renew stops its job before its lease lapses, minus the clock-skew margin (self-fencing). A slot nobody
claimed within backfillWindowSeconds of its time is recorded missed. A slot that comes due while the
timed-jobs switch is off is recorded held (final: never run, no alarm). Metrics (namespace from the config,
dimension-less and per Job): JobFailures, JobsMissed, JobRetries, JobLeasesLost, LockFailures.

Claims are taken only while the gate file (<stateDir>/gate) exists: the boot creates it after the instance
passed its health check, a drain removes it.

The timed-jobs switch (the operator's hold on the whole fleet's jobs, without a deploy): the SSM parameter
switchParameter names (/<project>-<env>/timed-jobs), read once per tick, beside the table.
  on, or no such parameter   slots are claimed and run as above.
  off                        nothing is claimed; every slot this instance would claim (due, given back, a
                             lapsed lease, a retry) is recorded held instead: final, never run, not missed,
                             so no alarm, and the missed-slot cursor moves on, so nothing is caught up when
                             the switch goes back on. A job already running finishes (a drain stops it).
  anything else, or no answer from the API (fail closed): nothing is claimed or held; the slots stay
                             unclaimed, run late if the switch reads on within their backfill window, and are
                             recorded missed (and alarm) after it.
The tick leaves what it read in <stateDir>/switch; a supervisor claims a job's next slot or its retry only
while that says on.

Drain (the contract the terminate lifecycle path relies on):
  webapp-jobs drain [--timeout S]   (S: whole seconds, default 30)
  1. Removes the gate and waits for a tick that is claiming to finish: from then on this instance claims
     nothing (a later boot creates the gate again).
  2. Waits up to S seconds for the jobs running here to finish (their outcome is recorded as usual).
  3. Asks each job still running to stop: it gets TERM, KILL after the kill grace, and its slot is given
     back (released), so another instance runs it again, with the same attempt number.
  Exit status: 0 when no job of this instance runs any more (finished or given back); 1 when a holder had
  to be killed without giving its slot back (its lease then lapses and another instance retries the slot
  after leaseSeconds); 64 on a usage error. Output: one line per job handled and a summary line.
  Idempotent; safe to run as root or as the app user, with or without jobs running.

Talks to DynamoDB, SSM (the switch) and CloudWatch through the `aws` CLI (instance role credentials) and to
Redis through redis-cli (REDIS_HOST, REDIS_PORT, REDIS_TLS, REDIS_AUTH_TOKEN passed as REDISCLI_AUTH,
REDIS_CACERT).
Python 3.9+ standard library only.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import errno
import fcntl
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

DEFAULT_CONFIG = "/etc/webapp/jobs.json"
CURSOR = "~cursor"
# Slots just older than a job's read span that every tick also reads, so the missed-slot cursor only needs
# writing every few slots.
TAIL_SLOTS = 4
CURSOR_LAG_SLOTS = 3
EX_USAGE = 64
# A failed attempt whose backoff is at most this long is retried by its holder as the backoff ends (holding
# the job's lock meanwhile); a longer one waits for the first tick after it.
HOLD_RETRY_SECONDS = 300.0


# ---------------------------------------------------------------- cron
FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
    ("day of week", 0, 7, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
)


def _value(text: str, lo: int, hi: int, names: Optional[List[str]], month: bool) -> int:
    if re.fullmatch(r"\d{1,2}", text):
        n = int(text)
    elif names and text.lower() in names:
        n = names.index(text.lower()) + (1 if month else 0)
    else:
        raise ValueError(f"bad value {text!r}")
    if not lo <= n <= hi:
        raise ValueError(f"{text} is outside {lo}-{hi}")
    return n


def parse_field(text: str, index: int) -> set:
    name, lo, hi, names = FIELDS[index]
    values = set()
    for part in text.split(","):
        range_text, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"{name}: step {step_text}")
        if range_text == "*":
            first, last = lo, hi
        elif "-" in range_text:
            a, b = range_text.split("-", 1)
            first, last = _value(a, lo, hi, names, index == 3), _value(b, lo, hi, names, index == 3)
        else:
            first = last = _value(range_text, lo, hi, names, index == 3)
        values.update(range(first, last + 1, step))
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return values


class Schedule:
    """A five-field cron expression as cronie reads it: when both day fields are restricted (neither starts
    with `*`), a day matches either; otherwise both."""

    def __init__(self, expression: str):
        parts = expression.split()
        if len(parts) != 5:
            raise ValueError(f"not five fields: {expression!r}")
        self.minutes, self.hours, self.days, self.months, self.weekdays = (parse_field(p, i) for i, p in enumerate(parts))
        self.any_day = parts[2].startswith("*") or parts[4].startswith("*")

    def day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.weekdays
        return (dom and dow) if self.any_day else (dom or dow)

    def slots(self, after: float, until: float) -> List[int]:
        """Scheduled minutes (epoch seconds) in (after, until], oldest first."""
        out: List[int] = []
        start = int(after // 60) * 60 + 60
        end = int(until // 60) * 60
        if end < start:
            return out
        day = utc(start).date()
        last_day = utc(end).date()
        while day <= last_day:
            if self.day_matches(day):
                base = calendar.timegm(day.timetuple())
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        t = base + hour * 3600 + minute * 60
                        if start <= t <= end:
                            out.append(t)
            day += dt.timedelta(days=1)
        return out


    def previous(self, count: int, before: float, years: int = 5) -> List[int]:
        """The last `count` scheduled minutes at or before `before`, oldest first (looking back at most `years`)."""
        out: List[int] = []
        day = utc(before).date()
        for _ in range(366 * years):
            if self.day_matches(day):
                base = calendar.timegm(day.timetuple())
                times = [base + h * 3600 + m * 60 for h in sorted(self.hours, reverse=True) for m in sorted(self.minutes, reverse=True)]
                out.extend(t for t in times if t <= before)
                if len(out) >= count:
                    break
            day -= dt.timedelta(days=1)
        return sorted(out[:count])


def utc(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc)


def slot_id(t: float) -> str:
    return utc(t).strftime("%Y-%m-%dT%H:%MZ")


def slot_time(slot: str) -> int:
    return calendar.timegm(time.strptime(slot, "%Y-%m-%dT%H:%MZ"))


# ---------------------------------------------------------------- configuration and clock
class Job:
    def __init__(self, raw: Dict[str, Any], defaults: Dict[str, Any]):
        self.name: str = raw["name"]
        self.schedule_text: str = raw["schedule"]
        self.schedule = Schedule(raw["schedule"])
        self.command: List[str] = list(raw["command"])
        self.lease = float(raw["leaseSeconds"])
        self.max_run = float(raw["maxRunSeconds"])
        self.retries = int(raw["retries"])
        self.backoff = float(raw["retryBackoffSeconds"])
        self.backfill = float(raw["backfillWindowSeconds"])
        self.log_file = os.path.join(defaults["logDir"], f"cron-{self.name}.log") if defaults.get("logDir") else None

    @property
    def renew_every(self) -> float:
        return self.lease / 4

    def retry_span(self, tick: float) -> float:
        """How long after its time a slot may still be retried: every attempt may run its maximum, die and
        lapse, wait a tick, then back off."""
        backoffs = sum(self.backoff * 2 ** i for i in range(self.retries))
        return (self.retries + 1) * (self.max_run + self.lease + tick) + backoffs

    def read_span(self, tick: float) -> float:
        return self.backfill + self.retry_span(tick)


class Config:
    def __init__(self, path: str):
        with open(path) as f:
            raw = json.load(f)
        self.path = path
        self.table: str = raw["table"]
        self.region: str = raw["region"]
        self.namespace: str = raw["namespace"]
        self.switch_parameter: str = raw["switchParameter"]
        self.state_dir: str = raw["stateDir"]
        self.log_dir: Optional[str] = raw.get("logDir")
        self.retention = float(raw["recordRetentionDays"]) * 86400
        self.skew = float(raw["clockSkewMarginSeconds"])
        self.grace = float(raw["killGraceSeconds"])
        self.tick_seconds = 60.0
        self.jobs = [Job(j, raw) for j in raw["jobs"]]
        # Test mode only, never written by the platform: one schedule minute lasts minuteSeconds real seconds
        # (every duration above scales with it), and this process's clock is off by clockOffsetSeconds.
        test = raw.get("test") or {}
        self.clock = Clock(float(test.get("minuteSeconds", 60)), float(test.get("epoch", 0)), float(test.get("clockOffsetSeconds", 0)))

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise SystemExit(f"webapp-jobs: no job named {name} in {self.path}")

    @property
    def gate(self) -> str:
        return os.path.join(self.state_dir, "gate")

    @property
    def running_dir(self) -> str:
        return os.path.join(self.state_dir, "running")

    @property
    def switch_file(self) -> str:
        return os.path.join(self.state_dir, "switch")


class Clock:
    """Schedule time. Real time, unless a test configuration compresses it (a schedule minute of
    minute_seconds real seconds) or skews it (offset, in schedule seconds)."""

    def __init__(self, minute_seconds: float, epoch: float, offset: float):
        self.scale = 60.0 / minute_seconds
        self.epoch = epoch
        self.offset = offset

    def now(self) -> float:
        return self.epoch + (time.time() - self.epoch) * self.scale + self.offset

    def real(self, seconds: float) -> float:
        return seconds / self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)


# ---------------------------------------------------------------- output
HOST = socket.gethostname()


def log(message: str, job: str = "", slot: str = "") -> None:
    where = " ".join(x for x in (job, slot) if x)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} webapp-jobs[{HOST} {os.getpid()}]{' ' + where if where else ''}: {message}", flush=True)


# ---------------------------------------------------------------- AWS (through the aws CLI)
class AwsError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


class AwsCall:
    """One `aws` CLI call, started at once; result() waits for its answer (so two calls can run side by side)."""

    def __init__(self, config: Config, service: str, operation: str, request: Dict[str, Any]):
        self.what = f"aws {service} {operation}"
        env = dict(os.environ)
        env.setdefault("AWS_RETRY_MODE", "standard")
        env.setdefault("AWS_MAX_ATTEMPTS", "3")
        env["AWS_PAGER"] = ""
        argv = ["aws", service, operation, "--region", config.region, "--output", "json", "--cli-read-timeout", "10", "--cli-connect-timeout", "5", "--cli-input-json", json.dumps(request)]
        self.error: Optional[AwsError] = None
        try:
            self.proc: Optional["subprocess.Popen[str]"] = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        except OSError as err:
            self.proc = None
            self.error = AwsError("NoCli", f"cannot run aws: {err}")

    def result(self) -> Dict[str, Any]:
        if self.proc is None:
            raise self.error  # type: ignore[misc]
        try:
            stdout, stderr = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise AwsError("Timeout", f"{self.what} did not answer within 60 s")
        if self.proc.returncode != 0:
            found = re.search(r"\(([A-Za-z0-9.]+)\)", stderr)
            raise AwsError(found.group(1) if found else "Error", " ".join(stderr.split())[:400])
        return json.loads(stdout) if stdout.strip() else {}


def aws(config: Config, service: str, operation: str, request: Dict[str, Any]) -> Dict[str, Any]:
    return AwsCall(config, service, operation, request).result()


def conditional(error: AwsError) -> bool:
    return error.code == "ConditionalCheckFailedException"


def marshal(value: Any) -> Dict[str, str]:
    if isinstance(value, bool):
        raise TypeError("no booleans")
    if isinstance(value, (int, float)):
        return {"N": repr(round(value, 3)) if isinstance(value, float) else str(value)}
    return {"S": str(value)}


def unmarshal(item: Dict[str, Dict[str, str]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, typed in item.items():
        (kind, value), = typed.items()
        out[key] = float(value) if kind == "N" else value
    return out


def key(job: str, slot: str) -> Dict[str, Dict[str, str]]:
    return {"job": {"S": job}, "slot": {"S": slot}}


def read_items(config: Config, keys: List[Tuple[str, str]]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """Strongly consistent reads of the given (job, slot) items, 100 per call."""
    found: Dict[Tuple[str, str], Dict[str, Any]] = {}
    pending = [key(j, s) for j, s in dict.fromkeys(keys)]
    for attempt in range(5):
        if not pending:
            break
        batch, pending = pending[:100], pending[100:]
        answer = aws(config, "dynamodb", "batch-get-item", {"RequestItems": {config.table: {"Keys": batch, "ConsistentRead": True}}})
        for raw in answer.get("Responses", {}).get(config.table, []):
            item = unmarshal(raw)
            found[(item["job"], item["slot"])] = item
        pending = answer.get("UnprocessedKeys", {}).get(config.table, {}).get("Keys", []) + pending
        if pending and attempt < 4:
            time.sleep(0.2 * 2 ** attempt)
    if pending:
        raise AwsError("Unprocessed", f"{len(pending)} keys left unread")
    return found


def update(config: Config, job: str, slot: str, sets: Dict[str, Any], condition: str, values: Optional[Dict[str, Any]] = None) -> bool:
    """Conditional UpdateItem: SET each of `sets`; False when the condition does not hold."""
    names = {"#st": "status", "#slot": "slot", "#fence": "fence", "#lease": "leaseUntil"}
    attribute_values = {f":{k}": marshal(v) for k, v in (values or {}).items()}
    assignments = []
    for i, (attribute, value) in enumerate(sets.items()):
        names[f"#a{i}"] = attribute
        attribute_values[f":a{i}"] = marshal(value)
        assignments.append(f"#a{i} = :a{i}")
    request = {
        "TableName": config.table,
        "Key": key(job, slot),
        "UpdateExpression": "SET " + ", ".join(assignments),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {k: v for k, v in names.items() if k in condition or k.startswith("#a")},
        "ExpressionAttributeValues": attribute_values,
    }
    try:
        aws(config, "dynamodb", "update-item", request)
        return True
    except AwsError as err:
        if conditional(err):
            return False
        raise


def metric(config: Config, name: str, job: str, count: int = 1) -> None:
    """One datapoint without dimensions (what the alarms read) and one per job (what the dashboard shows)."""
    data = [
        {"MetricName": name, "Value": count, "Unit": "Count"},
        {"MetricName": name, "Value": count, "Unit": "Count", "Dimensions": [{"Name": "Job", "Value": job}]},
    ]
    try:
        aws(config, "cloudwatch", "put-metric-data", {"Namespace": config.namespace, "MetricData": data})
    except AwsError as err:
        log(f"could not record metric {name}: {err}", job)


def switch_call(config: Config) -> AwsCall:
    return AwsCall(config, "ssm", "get-parameter", {"Name": config.switch_parameter})


def read_switch(config: Config, call: Optional[AwsCall] = None) -> Tuple[str, str]:
    """The timed-jobs switch (from `call`, started earlier, or read now): ("on", why), ("off", why), or
    ("unknown", why) when the parameter holds anything else or the API does not answer (the runner then
    claims nothing: fail closed)."""
    try:
        answer = (call or switch_call(config)).result()
    except AwsError as err:
        if err.code == "ParameterNotFound":
            return "on", f"no parameter {config.switch_parameter}"
        return "unknown", f"cannot read {config.switch_parameter} ({err})"
    value = str(answer.get("Parameter", {}).get("Value", ""))
    if value in ("on", "off"):
        return value, f"{config.switch_parameter} is {value}"
    return "unknown", f"{config.switch_parameter} is {value!r}, neither on nor off"


def write_switch(config: Config, state: str) -> None:
    with open(f"{config.switch_file}.{os.getpid()}.tmp", "w") as f:
        f.write(state + "\n")
    os.replace(f"{config.switch_file}.{os.getpid()}.tmp", config.switch_file)


def switched_on(config: Config) -> bool:
    """What the last tick read of the switch (a supervisor's view): on, or not (off, unknown, never read)."""
    try:
        with open(config.switch_file) as f:
            return f.read().strip() == "on"
    except OSError:
        return False


# ---------------------------------------------------------------- Redis (through redis-cli)
RENEW_LOCK = """
local v = redis.call("GET", KEYS[1])
if v == ARGV[1] then redis.call("PEXPIRE", KEYS[1], ARGV[2]) return 1 end
if not v then redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2]) return 2 end
return 0"""
RELEASE_LOCK = """
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0"""


class Redis:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.host = os.environ.get("REDIS_HOST", "")
        self.port = os.environ.get("REDIS_PORT", "6379")
        self.cli = shutil.which("redis-cli") or shutil.which("redis6-cli") or shutil.which("valkey-cli")

    def call(self, *args: str) -> Tuple[bool, str]:
        """(reachable, reply). Unreachable also covers a missing CLI, a timeout and an error reply."""
        if not self.host or not self.cli:
            return False, "REDIS_HOST is not set" if not self.host else "no redis-cli on PATH"
        argv = [self.cli, "-h", self.host, "-p", self.port]
        if os.environ.get("REDIS_TLS", "true") != "false":
            argv.append("--tls")
            if os.environ.get("REDIS_CACERT"):
                argv += ["--cacert", os.environ["REDIS_CACERT"]]
        env = dict(os.environ)
        if os.environ.get("REDIS_AUTH_TOKEN"):
            env["REDISCLI_AUTH"] = os.environ["REDIS_AUTH_TOKEN"]
        try:
            done = subprocess.run(argv + list(args), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=5, universal_newlines=True)
        except (subprocess.TimeoutExpired, OSError) as err:
            return False, str(err)
        reply = done.stdout.strip()
        if done.returncode != 0 or re.match(r"^(ERR|OOM|NOAUTH|WRONGPASS|READONLY|LOADING|MASTERDOWN|BUSY|NOSCRIPT|MISCONF|Could not connect|Error)", reply):
            return False, " ".join(reply.split())[:200] or f"redis-cli exited {done.returncode}"
        return True, reply

    def acquire(self, job: Job, token: str) -> Optional[bool]:
        """True: taken; False: held by another run of the job; None: Redis unavailable."""
        ok, reply = self.call("SET", f"lock:{job.name}", token, "NX", "PX", self.ms(job.lease))
        if not ok:
            self.problem = reply
            return None
        return reply == "OK"

    def ms(self, seconds: float) -> str:
        """A duration for Redis: real milliseconds, at least 1."""
        return str(max(1, int(self.clock.real(seconds) * 1000)))

    def renew(self, job: Job, token: str) -> Optional[int]:
        ok, reply = self.call("EVAL", RENEW_LOCK, "1", f"lock:{job.name}", token, self.ms(job.lease))
        return int(reply) if ok and reply.isdigit() else None

    def release(self, job: Job, token: str) -> None:
        self.call("EVAL", RELEASE_LOCK, "1", f"lock:{job.name}", token)

    problem = ""


# ---------------------------------------------------------------- slots and claims
class Claim:
    def __init__(self, job: Job, slot: str, fence: int, attempt: int, lease_until: float):
        self.job, self.slot, self.fence, self.attempt, self.lease_until = job, slot, fence, attempt, lease_until
        self.retry_at: Optional[float] = None


def owner() -> str:
    return f"{HOST}:{os.getpid()}"


def read_set(config: Config, job: Job, now: float) -> List[str]:
    """The slots a tick looks at: those of the read span (first claims, retries), then a few older ones
    (missed-slot accounting), newest last."""
    span = job.read_span(config.tick_seconds)
    slots = job.schedule.slots(now - span, now)
    older = job.schedule.previous(TAIL_SLOTS, now - span)
    return [slot_id(t) for t in older + slots]


def classify(config: Config, job: Job, slot: str, item: Optional[Dict[str, Any]], now: float) -> str:
    """What this instance may do with a slot now: new, lapsed, retry, released, wait, missed, expired or
    final (done, dead, missed, held: nothing left to do)."""
    age = now - slot_time(slot)
    if item is None:
        return "new" if age <= job.backfill else "missed"
    status = item.get("status")
    if status in ("done", "dead", "missed", "held"):
        return "final"
    too_old = age > job.read_span(config.tick_seconds)
    if status == "running":
        if item.get("leaseUntil", 0) >= now:
            return "wait"
        return "expired" if too_old else "lapsed"
    if status == "failed":
        if too_old:
            return "expired"
        return "retry" if item.get("retryAt", 0) <= now else "wait"
    if status == "released":
        return "expired" if too_old else "released"
    return "wait"


def claim_condition(item: Optional[Dict[str, Any]], kind: str, now: float) -> Tuple[str, Dict[str, Any]]:
    """The condition under which a slot seen as `kind` is still what it was seen as."""
    if kind == "new":
        return "attribute_not_exists(#slot)", {}
    assert item is not None
    condition = "#fence = :seen AND #st = :status"
    values: Dict[str, Any] = {"seen": int(item["fence"]), "status": item["status"], "now": now}
    if kind == "lapsed":
        condition += " AND #lease < :now"
    elif kind == "retry":
        condition += " AND retryAt <= :now"
    return condition, {k: v for k, v in values.items() if f":{k}" in condition}


def claim(config: Config, job: Job, slot: str, item: Optional[Dict[str, Any]], kind: str, now: float) -> Optional[Claim]:
    """Conditional claim of a slot seen as `kind`; None when another instance changed it first."""
    fence = int(item.get("fence", 0)) + 1 if item else 1
    attempt = int(item.get("attempt", 0)) + (0 if kind == "released" else 1) if item else 1
    # The lease runs from when the claim is sent, whatever the tick spent before.
    lease_until = config.clock.now() + job.lease
    sets = {"status": "running", "fence": fence, "attempt": attempt, "owner": owner(), "leaseUntil": lease_until, "claimedAt": now, "scheduledAt": slot_time(slot), "expiresAt": int(time.time() + job.read_span(config.tick_seconds) + config.retention)}
    if not update(config, job.name, slot, sets, *claim_condition(item, kind, now)):
        return None
    if kind == "lapsed":
        metric(config, "JobLeasesLost", job.name)
        log(f"claimed again after the lease of {item.get('owner')} lapsed (attempt {attempt}, fencing token {fence})", job.name, slot)  # type: ignore[union-attr]
    if attempt > 1 and kind != "released":
        metric(config, "JobRetries", job.name)
    return Claim(job, slot, fence, attempt, lease_until)


def hold(config: Config, job: Job, slot: str, item: Optional[Dict[str, Any]], kind: str, now: float) -> None:
    """Records a slot this instance would claim as held (the switch is off): final, never run, no alarm."""
    sets = {"status": "held", "heldAt": now, "scheduledAt": slot_time(slot), "expiresAt": int(time.time() + config.retention)}
    if update(config, job.name, slot, sets, *claim_condition(item, kind, now)):
        log(f"held: the timed-jobs switch {config.switch_parameter} is off; not run", job.name, slot)


def settle(config: Config, job: Job, slot: str, item: Optional[Dict[str, Any]], kind: str, now: float) -> None:
    """Records what no instance will do any more: a slot nobody claimed in time (missed), a lapsed or failed
    slot with no attempt left or past its retry span (dead)."""
    expires = int(time.time() + config.retention)
    if kind == "missed":
        if update(config, job.name, slot, {"status": "missed", "recordedAt": now, "scheduledAt": slot_time(slot), "expiresAt": expires}, "attribute_not_exists(#slot)"):
            log(f"missed: nobody claimed it within the backfill window ({job.backfill:.0f} s)", job.name, slot)
            metric(config, "JobsMissed", job.name)
        return
    assert item is not None
    condition = "#fence = :seen AND #st = :status"
    values: Dict[str, Any] = {"seen": int(item["fence"]), "status": item["status"]}
    if item["status"] == "running":
        condition += " AND #lease < :now"
        values["now"] = now
    if update(config, job.name, slot, {"status": "dead", "finishedAt": now, "expiresAt": expires}, condition, values):
        why = "its lease lapsed" if item["status"] == "running" else "it failed"
        log(f"final failure: {why} on attempt {int(item.get('attempt', 0))} of {job.retries + 1}", job.name, slot)
        if item["status"] == "running":
            metric(config, "JobLeasesLost", job.name)
        metric(config, "JobFailures", job.name)


def account(config: Config, job: Job, slots: List[str], items: Dict[Tuple[str, str], Dict[str, Any]], now: float) -> None:
    """Missed-slot accounting behind the backfill window, with a cursor (the newest slot accounted for), so
    slots that passed while no instance ran are recorded however long the outage."""
    edge = [s for s in slots if now - slot_time(s) > job.backfill]
    if not edge:
        return
    cursor = items.get((job.name, CURSOR))
    newest = edge[-1]
    if cursor is None:
        update(config, job.name, CURSOR, {"through": newest}, "attribute_not_exists(#slot)")
        return
    through = cursor["through"]
    if through >= newest:
        return
    if through < edge[0]:
        # An outage longer than the slots read: read what lies between, 50 slots per tick.
        gap = [slot_id(t) for t in job.schedule.slots(slot_time(through), slot_time(edge[0]) - 1)][:50]
        if gap:
            items.update(read_items(config, [(job.name, s) for s in gap]))
            edge = gap
            newest = gap[-1]
    missed = [s for s in edge if s > through and (job.name, s) not in items]
    lag = len([s for s in slots if through < s <= newest])
    advance = newest != edge[-1] or lag >= CURSOR_LAG_SLOTS or through < slots[0]
    if not missed and not advance:
        return
    # One instance does the writing (the others' conditional writes would only fail); without Redis, all try.
    redis = Redis(config.clock)
    if redis.call("SET", f"accounting:{job.name}", owner(), "NX", "PX", redis.ms(job.renew_every)) == (True, ""):
        return
    for slot in missed:
        settle(config, job, slot, None, "missed", now)
    if advance:
        update(config, job.name, CURSOR, {"through": newest}, "#a0 = :old", {"old": through})


# ---------------------------------------------------------------- state directory
def ensure_dirs(config: Config) -> None:
    os.makedirs(config.running_dir, exist_ok=True)


def write_record(config: Config, info: Dict[str, Any]) -> None:
    """What a drain needs to find a supervisor and its job on this instance."""
    path = os.path.join(config.running_dir, f"{info['job']}.json")
    with open(f"{path}.{os.getpid()}.tmp", "w") as f:
        json.dump(info, f)
    os.replace(f"{path}.{os.getpid()}.tmp", path)


def running_here(config: Config) -> Dict[str, Dict[str, Any]]:
    """Supervisors alive on this instance, by job name."""
    found: Dict[str, Dict[str, Any]] = {}
    if not os.path.isdir(config.running_dir):
        return found
    for name in os.listdir(config.running_dir):
        if not name.endswith(".json"):
            continue
        path = os.path.join(config.running_dir, name)
        try:
            with open(path) as f:
                info = json.load(f)
        except (OSError, ValueError):
            continue
        if alive(int(info.get("pid", 0))):
            found[info["job"]] = info
        else:
            try:
                os.unlink(path)
            except OSError:
                pass
    return found


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return b"webapp-jobs" in cmdline and state != "Z"


class TickLock:
    """Held shared by a claiming tick, exclusively by a drain: a drain waits for a tick in flight."""

    def __init__(self, config: Config, exclusive: bool):
        self.path = os.path.join(config.state_dir, "tick.lock")
        self.exclusive = exclusive

    def __enter__(self) -> "TickLock":
        # Read-only is enough for flock, so root (a drain) and the app user (ticks) share the file.
        self.fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH)
        return self

    def __exit__(self, *_: Any) -> None:
        os.close(self.fd)


# ---------------------------------------------------------------- tick
def tick(config: Config) -> int:
    if not os.path.exists(config.gate):
        return 0
    ensure_dirs(config)
    # The switch is read beside the table (two CLI calls at once: a tick's latency is mostly the CLI's start).
    pending = switch_call(config)
    now = config.clock.now()
    sets = {job.name: read_set(config, job, now) for job in config.jobs}
    keys = [(job.name, s) for job in config.jobs for s in sets[job.name]] + [(job.name, CURSOR) for job in config.jobs]
    try:
        items = read_items(config, keys)
    except AwsError as err:
        write_switch(config, read_switch(config, pending)[0])
        log(f"cannot read the jobs table {config.table}; claiming nothing this minute: {err}")
        return 1
    switch, why = read_switch(config, pending)
    write_switch(config, switch)
    if switch == "unknown":
        log(f"timed-jobs switch unknown: {why}; claiming and holding nothing this minute")
    busy = running_here(config)
    status = 1 if switch == "unknown" else 0
    for job in config.jobs:
        try:
            account(config, job, sets[job.name], items, now)
            if switch == "off":
                hold_due(config, job, sets[job.name], items, now)
            elif switch == "on" and job.name not in busy:
                start_next(config, job, sets[job.name], items, now)
        except AwsError as err:
            log(f"DynamoDB: {err}", job.name)
            status = 1
    return status


def next_claim(config: Config, job: Job, slots: List[str], items: Dict[Tuple[str, str], Dict[str, Any]], now: float) -> Optional[Tuple[str, Optional[Dict[str, Any]], str]]:
    """The oldest slot this instance may claim, after settling what is over."""
    for slot in slots:
        item = items.get((job.name, slot))
        kind = classify(config, job, slot, item, now)
        if kind == "expired" or (kind == "lapsed" and int(item.get("attempt", 0)) > job.retries) or (kind == "retry" and int(item.get("attempt", 0)) > job.retries):  # type: ignore[union-attr]
            settle(config, job, slot, item, kind, now)
        elif kind in ("new", "lapsed", "retry", "released"):
            return slot, item, kind
    return None


def hold_due(config: Config, job: Job, slots: List[str], items: Dict[Tuple[str, str], Dict[str, Any]], now: float) -> None:
    """The switch is off: every slot this instance would claim is recorded held instead, after settling what
    is over (as next_claim does)."""
    for slot in slots:
        item = items.get((job.name, slot))
        kind = classify(config, job, slot, item, now)
        if kind == "expired" or (kind in ("lapsed", "retry") and int(item.get("attempt", 0)) > job.retries):  # type: ignore[union-attr]
            settle(config, job, slot, item, kind, now)
        elif kind in ("new", "lapsed", "retry", "released"):
            hold(config, job, slot, item, kind, now)


def start_next(config: Config, job: Job, slots: List[str], items: Dict[Tuple[str, str], Dict[str, Any]], now: float) -> None:
    found = next_claim(config, job, slots, items, now)
    if not found:
        return
    redis = Redis(config.clock)
    token = f"{owner()}:{random.getrandbits(64):016x}"
    held = redis.acquire(job, token)
    if held is False:
        return  # another run of this job holds its lock: the slot waits for the next tick
    if held is None:
        log(f"Redis lock lock:{job.name} not taken ({redis.problem}): running on the DynamoDB claim alone", job.name)
    slot, item, kind = found
    # With more than one slot to catch up, the supervisor takes the next ones itself as each run ends.
    backlog = sum(1 for s in slots if classify(config, job, s, items.get((job.name, s)), now) in ("new", "lapsed", "retry", "released")) > 1
    # Held only from the gate's check to the supervisor's registration: a drain waits for this, no longer.
    with TickLock(config, exclusive=False):
        got = claim(config, job, slot, item, kind, now) if os.path.exists(config.gate) else None
        if got is not None:
            spawn_supervisor(config, got, token if held else None, backlog)
    if got is None:
        if held:
            redis.release(job, token)
        return
    if held is None:
        metric(config, "LockFailures", job.name)


def spawn_supervisor(config: Config, first: Claim, token: Optional[str], backlog: bool) -> None:
    """Forks a detached supervisor for the claim (and the job's next slots, while it holds the lock)."""
    sys.stdout.flush()
    pid = os.fork()
    if pid > 0:
        # Registered before the tick lets go of its lock, so a drain that follows sees it.
        write_record(config, {"job": first.job.name, "slot": first.slot, "fence": first.fence, "pid": pid})
        return
    try:
        os.setsid()
        # Nothing of the tick's stays open here (its lock above all, which would block a drain).
        os.closerange(3, 1024)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        if first.job.log_file:
            out = os.open(first.job.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
        sys.argv[1:] = ["supervise", first.job.name]
        code = supervise(config, first, token, backlog)
    except BaseException as err:  # noqa: BLE001 - the child must never return into the tick
        log(f"supervisor failed: {err!r}", first.job.name, first.slot)
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


# ---------------------------------------------------------------- supervisor
class Stop(Exception):
    pass


def supervise(config: Config, claim_: Claim, token: Optional[str], backlog: bool) -> int:
    job = claim_.job
    record = os.path.join(config.running_dir, f"{job.name}.json")
    stop = {"asked": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(asked=True))
    redis = Redis(config.clock)
    try:
        current: Optional[Claim] = claim_
        while current is not None:
            if token and current is not claim_:
                redis.renew(job, token)
            outcome = run_one(config, current, token, redis, stop)
            if outcome == "failed" and current.retry_at and current.retry_at - config.clock.now() <= HOLD_RETRY_SECONDS:
                current = retry_when_due(config, current, token, redis, stop)
                continue
            if not backlog or outcome == "stopped" or stop["asked"] or not os.path.exists(config.gate) or not switched_on(config):
                break
            # Next slot of the same job while holding its lock: a backlog drains as fast as runs finish. The
            # slot after this one, if due and never claimed, is claimed at once; otherwise the slots are read.
            now = config.clock.now()
            try:
                following = [slot_id(t) for t in job.schedule.slots(slot_time(current.slot), now)]
                current = claim(config, job, following[0], None, "new", now) if following and now - slot_time(following[0]) <= job.backfill else None
                if current is None:
                    slots = read_set(config, job, now)
                    items = read_items(config, [(job.name, s) for s in slots])
                    found = next_claim(config, job, slots, items, now)
                    current = claim(config, job, found[0], found[1], found[2], now) if found else None
            except AwsError as err:
                log(f"DynamoDB: {err}", job.name)
                current = None
    finally:
        if token:
            redis.release(job, token)
        try:
            os.unlink(record)
        except OSError:
            pass
    return 0


def retry_when_due(config: Config, failed: Claim, token: Optional[str], redis: Redis, stop: Dict[str, bool]) -> Optional[Claim]:
    """Waits out a failed attempt's backoff (keeping the job's lock), then claims the slot's retry; None when
    stopped, drained, the switch no longer on, or another instance claimed it first."""
    job = failed.job
    next_lock = config.clock.now() + job.renew_every
    while config.clock.now() < (failed.retry_at or 0):
        if stop["asked"] or not os.path.exists(config.gate) or not switched_on(config):
            return None
        if token and config.clock.now() >= next_lock:
            redis.renew(job, token)
            next_lock = config.clock.now() + job.renew_every
        config.clock.sleep(min(1.0, job.renew_every / 4))
    seen = {"fence": failed.fence, "status": "failed", "attempt": failed.attempt, "retryAt": failed.retry_at}
    try:
        return claim(config, job, failed.slot, seen, "retry", config.clock.now())
    except AwsError as err:
        log(f"DynamoDB: {err}; the retry is left to the next tick", job.name, failed.slot)
        return None


def kill_group(proc: "subprocess.Popen[bytes]", config: Config, sig_first: int = signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig_first)
    except OSError:
        return
    deadline = time.monotonic() + config.clock.real(config.grace)
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def run_one(config: Config, c: Claim, token: Optional[str], redis: Redis, stop: Dict[str, bool]) -> str:
    """Runs one claimed slot to an outcome: done, failed, stopped (given back), fenced or lost."""
    job = c.job
    clock = config.clock
    env = dict(os.environ)
    env.update({"JOB_NAME": job.name, "JOB_SLOT": c.slot, "JOB_ATTEMPT": str(c.attempt), "JOB_FENCING_TOKEN": str(c.fence)})
    log(f"start attempt {c.attempt} (fencing token {c.fence})", job.name, c.slot)
    started = clock.now()
    proc = subprocess.Popen(c.job.command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    write_record(config, {"job": job.name, "slot": c.slot, "fence": c.fence, "pid": os.getpid(), "jobPid": proc.pid})
    # Renewals every quarter lease from the claim (a claim that took long to start is renewed at once).
    next_renew = c.lease_until - job.lease + job.renew_every
    fence_at = c.lease_until - config.skew - config.grace
    deadline = started + job.max_run
    outcome = ""
    renew_failed_since: Optional[float] = None
    while proc.poll() is None:
        time.sleep(min(0.5, clock.real(min(job.renew_every / 4, 5.0))))
        now = clock.now()
        if stop["asked"]:
            log("drain: stopping the job and giving its slot back", job.name, c.slot)
            kill_group(proc, config)
            outcome = "stopped"
            break
        if now >= deadline:
            log(f"exceeded maxRunSeconds ({job.max_run:.0f} s): stopping it", job.name, c.slot)
            kill_group(proc, config)
            outcome = "timeout"
            break
        if now >= next_renew:
            sent = clock.now()
            try:
                if update(config, job.name, c.slot, {"leaseUntil": sent + job.lease}, "#fence = :mine AND #st = :running", {"mine": c.fence, "running": "running"}):
                    c.lease_until = sent + job.lease
                    fence_at = c.lease_until - config.skew - config.grace
                    next_renew = sent + job.renew_every
                    renew_failed_since = None
                    if token and redis.renew(job, token) == 2:
                        log(f"Redis had lost lock:{job.name} (restart, failover or eviction): taken again", job.name, c.slot)
                else:
                    log("claim lost (another instance holds the slot now): killing the job", job.name, c.slot)
                    kill_group(proc, config, signal.SIGKILL)
                    return "lost"
            except AwsError as err:
                renew_failed_since = renew_failed_since or now
                log(f"lease renewal failed ({err}); the job is stopped at the lease's end minus the clock-skew margin unless a renewal succeeds", job.name, c.slot)
                next_renew = now + max(job.renew_every / 4, 1.0)
        if clock.now() >= fence_at:
            log("cannot renew the lease in time: stopping the job before the lease lapses (self-fencing)", job.name, c.slot)
            kill_group(proc, config)
            return "fenced"
    code = proc.wait()
    now = clock.now()
    if outcome == "stopped":
        if record_outcome(config, c, {"status": "released", "leaseUntil": 0, "releasedAt": now}):
            log("given back", job.name, c.slot)
        return "stopped"
    if outcome == "timeout":
        code = 124
    if code == 0:
        if record_outcome(config, c, {"status": "done", "finishedAt": now, "exitCode": 0, "runSeconds": round(now - started, 1)}):
            log(f"done in {now - started:.1f} s", job.name, c.slot)
            return "done"
        return "lost"
    final = c.attempt > job.retries
    sets: Dict[str, Any] = {"status": "dead" if final else "failed", "finishedAt": now, "exitCode": code}
    if not final:
        sets["retryAt"] = now + job.backoff * 2 ** (c.attempt - 1)
    if record_outcome(config, c, sets):
        c.retry_at = sets.get("retryAt")
        if final:
            log(f"failed with status {code} on its last attempt ({c.attempt} of {job.retries + 1}): final failure", job.name, c.slot)
            metric(config, "JobFailures", job.name)
        else:
            log(f"failed with status {code} (attempt {c.attempt} of {job.retries + 1}); retried after {sets['retryAt'] - now:.0f} s", job.name, c.slot)
    return "failed"


def record_outcome(config: Config, c: Claim, sets: Dict[str, Any]) -> bool:
    """Writes the outcome if the claim is still ours (fencing token); retries transient errors while the
    lease holds."""
    while True:
        try:
            if update(config, c.job.name, c.slot, sets, "#fence = :mine AND #st = :running", {"mine": c.fence, "running": "running"}):
                return True
            log(f"outcome {sets['status']} not recorded: the claim was lost (fencing token {c.fence} is stale)", c.job.name, c.slot)
            return False
        except AwsError as err:
            if config.clock.now() >= c.lease_until - config.skew:
                log(f"outcome {sets['status']} not recorded ({err}); the lease lapses and the slot is retried", c.job.name, c.slot)
                return False
            config.clock.sleep(2)


# ---------------------------------------------------------------- drain and status
def drain(config: Config, timeout: float) -> int:
    try:
        os.unlink(config.gate)
    except FileNotFoundError:
        pass
    if not os.path.isdir(config.state_dir):
        log("drain: no job has run on this instance")
        return 0
    with TickLock(config, exclusive=True):
        pass
    log(f"drain: claiming stopped; waiting up to {timeout:.0f} s for running jobs")
    deadline = time.monotonic() + timeout
    before = running_here(config)
    while running_here(config) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = running_here(config)
    for name in before:
        if name not in left:
            log(f"drain: {name} finished")
    for name, info in left.items():
        log(f"drain: {name} {info.get('slot')} still running: stopping it and giving the slot back")
        try:
            os.kill(int(info["pid"]), signal.SIGTERM)
        except OSError:
            pass
    # The supervisor needs the kill grace, then one write to give the slot back.
    give_back = time.monotonic() + config.clock.real(config.grace) + 30
    while running_here(config) and time.monotonic() < give_back:
        time.sleep(0.2)
    stuck = running_here(config)
    for name, info in stuck.items():
        log(f"drain: {name} {info.get('slot')} did not give its slot back in time: killed; its lease lapses")
        for pid, kill in ((info.get("jobPid"), os.killpg), (info.get("pid"), os.kill)):
            try:
                if pid:
                    kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    log(f"drain: done ({len(before) - len(left)} finished, {len(left) - len(stuck)} given back, {len(stuck)} killed)")
    return 1 if stuck else 0


def status(config: Config, only: Optional[str]) -> int:
    now = config.clock.now()
    jobs = [config.job(only)] if only else config.jobs
    sets = {job.name: read_set(config, job, now) for job in jobs}
    items = read_items(config, [(j.name, s) for j in jobs for s in sets[j.name]] + [(j.name, CURSOR) for j in jobs])
    switch, why = read_switch(config)
    print(f"gate: {'open' if os.path.exists(config.gate) else 'closed'}; switch: {switch} ({why}); running here: {', '.join(running_here(config)) or 'none'}")
    for job in jobs:
        cursor = items.get((job.name, CURSOR))
        print(f"{job.name} ({job.schedule_text}) missed-slot cursor: {cursor['through'] if cursor else '-'}")
        for slot in sets[job.name]:
            item = items.get((job.name, slot)) or {}
            print(f"  {slot}  {item.get('status', '-'):8}  attempt {int(item.get('attempt', 0))}  {item.get('owner', '')}  ({classify(config, job, slot, item or None, now)})")
    return 0


# ---------------------------------------------------------------- main
def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="webapp-jobs", description="Timed jobs once per scheduled slot.")
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("tick")
    drain_parser = sub.add_parser("drain")
    drain_parser.add_argument("--timeout", type=int, default=30)
    sub.add_parser("config")
    status_parser = sub.add_parser("status")
    status_parser.add_argument("job", nargs="?")
    slots_parser = sub.add_parser("slots")
    slots_parser.add_argument("schedule")
    slots_parser.add_argument("after", type=float)
    slots_parser.add_argument("until", type=float)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EX_USAGE if exit_.code else 0
    if args.command == "slots":
        for t in Schedule(args.schedule).slots(args.after, args.until):
            print(slot_id(t))
        return 0
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EX_USAGE
    config = Config(args.config)
    if args.command == "tick":
        return tick(config)
    if args.command == "config":
        json.dump(
            {
                job.name: {
                    "leaseSeconds": job.lease,
                    "renewEverySeconds": job.renew_every,
                    "stopBeforeLeaseEndSeconds": config.skew + config.grace,
                    "retrySpanSeconds": job.retry_span(config.tick_seconds),
                    "readSpanSeconds": job.read_span(config.tick_seconds),
                    "slotsRead": len(read_set(config, job, config.clock.now())),
                }
                for job in config.jobs
            },
            sys.stdout,
            indent=1,
        )
        print()
        return 0
    if args.command == "drain":
        if args.timeout < 0:
            print("webapp-jobs: drain --timeout must be 0 or more seconds", file=sys.stderr)
            return EX_USAGE
        return drain(config, float(args.timeout))
    return status(config, args.job)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
