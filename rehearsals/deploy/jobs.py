"""The timed jobs' fault rehearsal: exactly once per scheduled slot, under faults.

    python rehearsals/deploy/jobs.py [--wrapper webapp-jobs|cron-lock] [--minute-seconds 10] [--runner FILE] [--stack FILE] [--keep]

Run by scripts/rehearse-jobs.sh (npm run rehearse:jobs) with the moto venv's python, after a synth of dev.
Three processes stand in for instances. Each is a cron stand-in (named as such: the boot rehearsal runs real
cron) that, at every schedule minute of its own clock, runs the cron line as the boot installs it:
`webapp-jobs tick` with the runner and its configuration's platform part taken from dev's synthesized boot
bundle. Around them: real Redis with TLS and AUTH (a primary and a replica that is promoted after the
primary is killed, losing the primary's last write), with the eviction policy of dev's cache parameter
group, and the jobs table in moto (rehearsals/deploy/emulator.py, created from dev's synthesized table).

Test-only settings, written into each instance's configuration and reachable from nothing in environments/:
a schedule minute lasts --minute-seconds real seconds (every duration in the configuration scales with it),
and an instance's clock can be offset (the skew fault). The jobs and their timing are this file's (JOBS),
checked by the product's own validator first.

Faults, one phase each (slots are counted in the phase their scheduled minute falls in): the holder of a
long job killed mid-run (its whole process tree), a job failing twice then succeeding, clocks 58 s apart,
eviction pressure, Redis restarted, Redis down across a slot, a failover that loses the last write, a drain
of the holder, the timed-jobs switch (the SSM parameter the configuration names, absent until then) off for
two slots and on again, and every instance down for three slots. Each run of a job records its start and end
(events.jsonl); a run that is killed ends when its process disappears. Per phase it prints: slots, completed
once, completed more than once, slots with overlapping runs, missed (recorded), held (recorded while the
switch was off), lost (none of these), retried, and the alarm metrics' datapoints that reached moto's
CloudWatch. It fails unless every slot completed once or was recorded missed (and alarmed), every slot of the
switched-off phase was recorded held with no run and no JobsMissed datapoint, no slot elsewhere was held, and
no two runs of a slot overlapped.

`--runner FILE` runs another runner (a copy with a defect put in, to see the checks fail on it).
`--wrapper cron-lock` runs the same phases against the wrapper this runner replaced (modules/compute/
cron-lock.sh at OLD_WRAPPER_COMMIT): cron runs `cron-lock <job> <ttl> -- timeout ...` at each job's minute,
as that boot installed it, with ElastiCache's default eviction policy. It prints its table and exits 0.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import datetime as dt
import gzip
import importlib.machinery
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))  # rehearsals/deploy/ -> the repository
REGION = "eu-west-2"
ACCOUNT = "111111111111"
TOKEN = "rehearsal-jobs-redis-token-0123456789"
OLD_WRAPPER_COMMIT = "44f4aae"
INSTANCES = 3
# The rehearsal's jobs (schedule seconds). `runs` is how long the job takes; the rest is its setting,
# validated as an environment's would be. The short window (the shortest the validator allows with the
# shortest lease) makes the long outage outlast it.
JOBS: list[dict[str, Any]] = [
    {"name": "long", "schedule": "* * * * *", "runs": 30, "maxRunSeconds": 50, "retryBackoffSeconds": 10, "backfillWindowSeconds": 600},
    {"name": "flaky", "schedule": "* * * * *", "runs": 5, "maxRunSeconds": 30, "retryBackoffSeconds": 10, "backfillWindowSeconds": 420},
    {"name": "short-window", "schedule": "* * * * *", "runs": 5, "maxRunSeconds": 30, "retryBackoffSeconds": 10, "leaseSeconds": 80, "backfillWindowSeconds": 170},
]
ALARM_METRICS = ["JobFailures", "JobsMissed", "JobLeasesLost", "LockFailures"]
# (name, schedule minutes, fault); each fault is a method of Rehearsal, called at the phase's start.
PHASES: list[tuple[str, int, str]] = [
    ("no fault", 1, ""),
    ("timed jobs switched off", 2, "switch_off"),
    ("switched on again", 1, "switch_on"),
    ("holder killed mid-job", 3, "kill_holder"),
    ("job fails twice, then succeeds", 2, "flaky"),
    ("clocks 58 s apart", 2, "skew"),
    ("Redis restarted, clocks apart", 1, "redis_restart"),
    ("eviction pressure", 1, "evict"),
    ("Redis down across a slot", 2, "redis_down"),
    ("failover loses the last write", 1, "failover"),
    ("holder drained", 2, "drain"),
    ("every instance down 3 slots", 5, "all_down"),
]
# The phase whose slots the timed-jobs switch holds: each recorded held, none run, no alarm. It follows the
# calm first phase, so no slot before it is still waiting when the switch goes off (one would be held too).
HELD_PHASE = "timed jobs switched off"


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {text}", flush=True)


STARTED = time.monotonic()


# ---------------------------------------------------------------- the product, as synthesized
def heredoc(script: str, function: str) -> str:
    match = re.search(rf"^{function}\(\) \{{\n  cat <<'WEBAPP_HELPER_EOF'\n(.*?)\nWEBAPP_HELPER_EOF\n}}$", script, re.S | re.M)
    if not match:
        raise SystemExit(f"rehearse-jobs: the boot bundle has no {function}")
    return match.group(1) + "\n"


def synthesized(stack: str) -> dict[str, Any]:
    doc = json.load(open(stack))
    resources = doc["resource"]
    (bundle,) = resources["aws_s3_object"].values()
    script = gzip.decompress(base64.b64decode(bundle["content_base64"])).decode()
    (table,) = resources["aws_dynamodb_table"].values()
    (parameters,) = resources["aws_elasticache_parameter_group"].values()
    policy = {p["name"]: p["value"] for p in parameters["parameter"]}["maxmemory-policy"]
    return {
        "runner": heredoc(script, "write_helper_webapp_jobs"),
        "webapp_env": heredoc(script, "write_helper_webapp_env"),
        "config": json.loads(heredoc(script, "write_jobs_config")),
        "cron_line": re.search(r"printf '(\* \* \* \* \* %s [^']*webapp-jobs tick[^']*)'", script).group(1),  # type: ignore[union-attr]
        "table": table,
        "eviction": policy,
    }


def old_wrapper() -> str:
    return subprocess.run(["git", "-C", ROOT, "show", f"{OLD_WRAPPER_COMMIT}:modules/compute/cron-lock.sh"], check=True, capture_output=True, text=True).stdout


def validate(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The product's validator and resolver (dist/, built by the synth) on the rehearsal's jobs."""
    settings = [{k: v for k, v in j.items() if k != "runs"} | {"command": "true"} for j in jobs]
    code = (
        "const c = require('./dist/modules/compute'); const { Problems } = require('./dist/modules/primitives/validation');"
        "const jobs = JSON.parse(process.argv[1]); const p = Problems.create('rehearsal');"
        "c.checkCronJobs(jobs, undefined, undefined, p);"
        "if (p.list.length) { console.error(p.list.map((x) => `${x.path}: ${x.message}`).join('\\n')); process.exit(1); }"
        "console.log(JSON.stringify(jobs.map((j) => c.resolveCronJob(j))));"
    )
    done = subprocess.run(["node", "-e", code, json.dumps(settings)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"rehearse-jobs: the rehearsal's jobs fail the validator:\n{done.stderr}")
    return json.loads(done.stdout)


# ---------------------------------------------------------------- services
def certificates(dir_: str) -> dict[str, str]:
    os.makedirs(dir_, exist_ok=True)
    f = lambda n: os.path.join(dir_, n)  # noqa: E731
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=jobs rehearsal CA", "-keyout", f("ca.key"), "-out", f("ca.pem"))
    with open(f("ext.cnf"), "w") as out:
        out.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr"))
    run("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", f("ext.cnf"), "-out", f("server.pem"))
    return {"ca": f("ca.pem"), "cert": f("server.pem"), "key": f("server.key")}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisNode:
    """redis-server with TLS only and AUTH, no persistence: a restart loses every key, as a node replaced does."""

    def __init__(self, work: str, tls: dict[str, str], port: int, name: str, policy: str):
        self.work, self.tls, self.port, self.name, self.policy = work, tls, port, name, policy
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, replica_of: int | None = None) -> None:
        d = os.path.join(self.work, self.name)
        os.makedirs(d, exist_ok=True)
        args = ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1", "--tls-cert-file", self.tls["cert"], "--tls-key-file", self.tls["key"],
                "--tls-ca-cert-file", self.tls["ca"], "--tls-auth-clients", "no", "--requirepass", TOKEN, "--masterauth", TOKEN, "--save", "", "--appendonly", "no",
                "--dir", d, "--maxmemory-policy", self.policy, "--tls-replication", "yes", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]
        if replica_of:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.proc = subprocess.Popen(args, stdout=open(os.path.join(d, "log"), "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(100):
            if self.cli("PING")[1] == "PONG":
                return
            time.sleep(0.05)
        raise SystemExit(f"rehearse-jobs: redis {self.name} did not start")

    def cli(self, *args: str, port: int | None = None) -> tuple[int, str]:
        done = subprocess.run(["redis-cli", "--tls", "--cacert", self.tls["ca"], "-h", "127.0.0.1", "-p", str(port or self.port), *args],
                              env=dict(os.environ, REDISCLI_AUTH=TOKEN), capture_output=True, text=True, timeout=10)
        return done.returncode, done.stdout.strip()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait()

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)


class Moto:
    def __init__(self, work: str):
        self.port_file, self.pid_file, self.log = (os.path.join(work, n) for n in ("moto.port", "moto.pid", "moto.log"))
        subprocess.run([sys.executable, os.path.join(HERE, "emulator.py"), "start", "--account-id", ACCOUNT, "--port-file", self.port_file, "--pid-file", self.pid_file, "--log", self.log], check=True, stdout=subprocess.DEVNULL)
        self.port = int(open(self.port_file).read())
        import boto3

        kw = {"region_name": REGION, "endpoint_url": f"http://127.0.0.1:{self.port}", "aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}
        self.dynamodb = boto3.client("dynamodb", **kw)
        self.cloudwatch = boto3.client("cloudwatch", **kw)
        self.ssm = boto3.client("ssm", **kw)

    def stop(self) -> None:
        subprocess.run([sys.executable, os.path.join(HERE, "emulator.py"), "stop", "--pid-file", self.pid_file], check=False)


# ---------------------------------------------------------------- instances (cron stand-ins)
def serve_instance(args: argparse.Namespace) -> None:
    """An instance: a subreaper (so whatever it starts, detached or not, stays its descendant and dies with
    it) running, at each schedule minute of its clock, the cron line(s) given in its plan file."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    plan = json.load(open(args.plan))
    minute_seconds, epoch = plan["minuteSeconds"], plan["epoch"]
    scale = 60.0 / minute_seconds
    runner = plan.get("runnerModule")
    schedules = {}
    if runner:
        spec = importlib.util.spec_from_loader("runner", importlib.machinery.SourceFileLoader("runner", runner))
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        schedules = {j["name"]: module.Schedule(j["schedule"]) for j in plan["jobs"]}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log = open(plan["log"], "ab", buffering=0)
    last = None
    while True:
        try:
            offset = float(open(plan["offsetFile"]).read())
        except (OSError, ValueError):
            offset = 0.0
        now = epoch + (time.time() - epoch) * scale + offset
        minute = int(now // 60)
        if last is None:
            last = minute
        # A clock set back does not fire a minute again (cron does not either); forward, it fires the new one.
        if minute > last:
            last = minute
            time.sleep(random.uniform(0, 0.15))  # cron's own start-up latency
            slot = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(minute * 60))
            if plan["mode"] == "webapp-jobs":
                lines = [(plan["log"], plan["line"])]
            else:
                lines = [(plan["jobLogs"][name], line) for name, line in plan["lines"].items() if schedules[name].slots(minute * 60 - 1, minute * 60)]
            for marker, line in lines:
                with open(marker, "a") as out:
                    out.write(f"--- {time.time():.3f} {slot}\n")
                subprocess.Popen(["/bin/bash", "-c", line], env=dict(plan["env"], HARNESS_SLOT=slot), stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=plan["dir"])
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        next_minute = (minute + 1) * 60
        time.sleep(max(0.02, min(0.2, (next_minute - now) / scale)))


def descendants(root: int) -> list[int]:
    """Live (not zombie) descendants of root."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


class Instance:
    def __init__(self, rehearsal: "Rehearsal", index: int):
        self.r, self.index = rehearsal, index
        self.name = f"i{index}"
        self.dir = os.path.join(rehearsal.work, self.name)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def state(self) -> str:
        return os.path.join(self.dir, "run")

    def start(self) -> None:
        """Boots: /run is empty (tmpfs), the gate opens once healthy (at once here)."""
        shutil.rmtree(self.state, ignore_errors=True)
        os.makedirs(os.path.join(self.state, "running"), exist_ok=True)
        open(os.path.join(self.state, "gate"), "w").close()
        plan = self.r.plan(self)
        path = os.path.join(self.dir, "plan.json")
        with open(path, "w") as f:
            json.dump(plan, f)
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "instance", "--plan", path], stdin=subprocess.DEVNULL, start_new_session=True)

    def kill(self) -> None:
        """The instance is gone at once: every process it started, detached or not."""
        if not self.proc or self.proc.poll() is not None:
            return
        self.r.kills.append((self.name, time.time()))
        # Frozen first (nothing forks or reparents meanwhile), then killed, until nothing of it is left.
        os.kill(self.proc.pid, signal.SIGSTOP)
        for _ in range(100):
            pids = descendants(self.proc.pid)
            if not pids:
                break
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                for pid in pids:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
            time.sleep(0.01)
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def set_offset(self, seconds: float) -> None:
        with open(os.path.join(self.dir, "clock-offset"), "w") as f:
            f.write(str(seconds))
        if self.r.mode == "webapp-jobs":
            config = json.load(open(self.config_path))
            config["test"]["clockOffsetSeconds"] = seconds
            with open(self.config_path + ".tmp", "w") as f:
                json.dump(config, f)
            os.replace(self.config_path + ".tmp", self.config_path)

    @property
    def config_path(self) -> str:
        return os.path.join(self.dir, "jobs.json")


# ---------------------------------------------------------------- runs of jobs
JOB_SCRIPT = r"""#!/bin/bash
# A rehearsal job: records its run (start, then end with its status) and takes `runs` schedule seconds.
# A slot listed in <dir>/fail-<job> fails its first two attempts.
set -u
job="$1" runs="$2"
slot="${JOB_SLOT:-$HARNESS_SLOT}"
attempt="${JOB_ATTEMPT:-}"
if [ -z "$attempt" ]; then attempt=$(( $(cat "$HARNESS_DIR/attempts/$job@$slot" 2>/dev/null || echo 0) + 1 )); echo "$attempt" >"$HARNESS_DIR/attempts/$job@$slot"; fi
now() { date +%s.%N; }
printf '{"e":"start","job":"%s","slot":"%s","attempt":%s,"fence":"%s","inst":"%s","pid":%s,"t":%s}\n' "$job" "$slot" "$attempt" "${JOB_FENCING_TOKEN:-}" "$HARNESS_INSTANCE" "$$" "$(now)" >>"$HARNESS_DIR/events.jsonl"
sleep "$runs"
status=0
if grep -qx "$slot" "$HARNESS_DIR/fail-$job" 2>/dev/null && [ "$attempt" -lt 3 ]; then status=3; fi
printf '{"e":"end","job":"%s","slot":"%s","attempt":%s,"inst":"%s","pid":%s,"status":%s,"t":%s}\n' "$job" "$slot" "$attempt" "$HARNESS_INSTANCE" "$$" "$status" "$(now)" >>"$HARNESS_DIR/events.jsonl"
exit "$status"
"""


class Runs:
    """Every run of every job: start, end (its own, or when its process disappeared), status."""

    def __init__(self, path: str):
        self.path = path
        self.runs: dict[tuple[str, int], dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self) -> None:
        offset = 0
        while not self.stop:
            if os.path.exists(self.path):
                with open(self.path) as f:
                    f.seek(offset)
                    chunk = f.read()
                cut = chunk.rfind("\n") + 1
                offset += len(chunk[:cut].encode())
                for line in chunk[:cut].splitlines():
                    event = json.loads(line)
                    with self.lock:
                        run = self.runs.setdefault((event["inst"], event["pid"]), {})
                        if event["e"] == "start":
                            run.update(job=event["job"], slot=event["slot"], attempt=event["attempt"], inst=event["inst"], start=event["t"])
                        else:
                            run.update(end=event["t"], status=event["status"])
            now = time.time()
            with self.lock:
                for (_inst, pid), run in self.runs.items():
                    if "end" not in run and "start" in run and not os.path.exists(f"/proc/{pid}"):
                        run.update(end=now, status=None)
            time.sleep(0.05)

    def running(self, job: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.runs.values() if r.get("job") == job and "end" not in r]

    def all(self, job: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.runs.values() if r.get("job") == job and "start" in r]

    def of(self, job: str, slot: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.runs.values() if r.get("job") == job and r.get("slot") == slot]


# ---------------------------------------------------------------- the rehearsal
class Rehearsal:
    def __init__(self, args: argparse.Namespace, product: dict[str, Any]):
        self.mode = args.wrapper
        self.minute_seconds = args.minute_seconds
        self.scale = 60.0 / self.minute_seconds
        self.max_load = 0.0  # the highest 1-minute load average seen (sample_load)
        self.product = product
        self.work = tempfile.mkdtemp(prefix="webapp-jobs-rehearsal-", dir="/var/tmp")
        self.keep = args.keep
        self.epoch = time.time()
        self.jobs = validate(JOBS)
        self.runs_of = {j["name"]: j["runs"] for j in JOBS}
        self.instances: list[Instance] = []
        self.kills: list[tuple[str, float]] = []
        self.cleanups: list[Any] = []
        self.notes: dict[str, list[str]] = {}
        for d in ("bin", "attempts"):
            os.makedirs(os.path.join(self.work, d), exist_ok=True)

    def vnow(self) -> float:
        return self.epoch + (time.time() - self.epoch) * self.scale

    def real(self, vt: float) -> float:
        """Real time at schedule time vt."""
        return self.epoch + (vt - self.epoch) / self.scale

    def sleep_until(self, vt: float) -> None:
        time.sleep(max(0.0, self.real(vt) - time.time()))

    def note(self, phase: str, text: str) -> None:
        self.notes.setdefault(phase, []).append(text)
        self.sample_load()
        say(f"  {phase}: {text}")

    def sample_load(self) -> None:
        """The machine's 1-minute load average, kept at its highest: compressed time (a schedule minute of a
        few real seconds) holds only while every tick gets the CPU it needs within a fraction of that."""
        try:
            self.max_load = max(self.max_load, float(open("/proc/loadavg").read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass

    # ------------------------------------------------------------ setup
    def setup(self) -> None:
        tls = certificates(os.path.join(self.work, "tls"))
        self.tls = tls
        policy = self.product["eviction"] if self.mode == "webapp-jobs" else "volatile-lru"
        self.redis_port = free_port()
        self.primary = RedisNode(self.work, tls, self.redis_port, "redis-a", policy)
        self.replica = RedisNode(self.work, tls, free_port(), "redis-b", policy)
        self.primary.start()
        self.replica.start(replica_of=self.redis_port)
        # Read at clean-up time: a failover swaps the two, and both must be stopped.
        self.cleanups += [lambda: self.primary.kill(), lambda: self.replica.kill()]
        say(f"redis: primary 127.0.0.1:{self.redis_port}, replica :{self.replica.port} (TLS, AUTH, maxmemory-policy {policy})")
        self.moto = Moto(self.work)
        self.cleanups.append(self.moto.stop)
        table = self.product["table"]
        self.table = table["name"]
        self.moto.dynamodb.create_table(
            TableName=self.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attribute"]],
            KeySchema=[{"AttributeName": table["hash_key"], "KeyType": "HASH"}, {"AttributeName": table["range_key"], "KeyType": "RANGE"}],
        )
        say(f"moto on 127.0.0.1:{self.moto.port}: table {self.table} ({table['hash_key']}, {table['range_key']}) as dev synthesizes it")
        bin_ = os.path.join(self.work, "bin")
        aws = os.environ.get("REHEARSAL_AWS_CLI") or shutil.which("aws")
        if not aws:
            raise SystemExit("rehearse-jobs: no AWS CLI (scripts/setup-tools.sh installs one; REHEARSAL_AWS_CLI)")
        # The AWS CLI, counted: each call's service and operation go to aws-calls (the rehearsal's cost).
        with open(os.path.join(bin_, "aws"), "w") as f:
            f.write(f'#!/bin/sh\necho "$1 $2" >>{os.path.join(self.work, "aws-calls")}\nexec {aws} "$@"\n')
        os.chmod(os.path.join(bin_, "aws"), 0o755)
        os.symlink(shutil.which("redis-cli") or "/usr/bin/redis-cli", os.path.join(bin_, "redis-cli"))
        self.runner = os.path.join(bin_, "webapp-jobs")
        with open(self.runner, "w") as f:
            f.write(self.product["runner"])
        os.chmod(self.runner, 0o755)
        with open(os.path.join(bin_, "webapp-env"), "w") as f:
            f.write(self.product["webapp_env"])
        os.chmod(os.path.join(bin_, "webapp-env"), 0o755)
        with open(os.path.join(bin_, "cron-lock"), "w") as f:
            f.write(old_wrapper())
        os.chmod(os.path.join(bin_, "cron-lock"), 0o755)
        with open(os.path.join(self.work, "job.sh"), "w") as f:
            f.write(JOB_SCRIPT)
        self.runs = Runs(os.path.join(self.work, "events.jsonl"))
        self.cleanups.append(lambda: setattr(self.runs, "stop", True))
        for i in range(1, INSTANCES + 1):
            inst = Instance(self, i)
            os.makedirs(inst.dir, exist_ok=True)
            self.instances.append(inst)
            self.write_config(inst)
            inst.set_offset(0)
        self.cleanups.append(lambda: [i.kill() for i in self.instances])

    def env(self, inst: Instance) -> dict[str, str]:
        return {
            "PATH": f"{os.path.join(self.work, 'bin')}:/usr/local/bin:/usr/bin:/bin",
            "HOME": inst.dir,
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.moto.port}",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis_port),
            "REDIS_TLS": "true",
            "REDIS_AUTH_TOKEN": TOKEN,
            "REDIS_CACERT": self.tls["ca"],
            "HARNESS_DIR": self.work,
            "HARNESS_INSTANCE": inst.name,
            "LOCK_MIN_HOLD_SECONDS": str(int(55 / self.scale)),
        }

    def env_file(self, inst: Instance) -> str:
        """The instance's /etc/webapp/app.env (render-env's format): what the runner and the jobs see."""
        path = os.path.join(inst.dir, "app.env")
        values = {k: v for k, v in self.env(inst).items() if k.startswith(("REDIS_", "HARNESS_"))}
        with open(path, "w") as f:
            for k, v in values.items():
                f.write(f"export {k}='{v}'\n")
        return path

    def write_config(self, inst: Instance) -> None:
        """The instance's /etc/webapp/jobs.json: the platform's part from dev's bundle, this rehearsal's jobs,
        its own state and log directories, and the test-only clock."""
        config = dict(self.product["config"])
        config["stateDir"] = inst.state
        config["logDir"] = inst.dir
        config["jobs"] = [
            {
                "name": j["name"],
                "schedule": j["schedule"],
                "command": ["/bin/bash", os.path.join(self.work, "job.sh"), j["name"], f"{self.runs_of[j['name']] / self.scale:.2f}"],
                **{k: j[k] for k in ("leaseSeconds", "maxRunSeconds", "retries", "retryBackoffSeconds", "backfillWindowSeconds")},
            }
            for j in self.jobs
        ]
        config["test"] = {"minuteSeconds": self.minute_seconds, "epoch": self.epoch, "clockOffsetSeconds": 0}
        with open(inst.config_path, "w") as f:
            json.dump(config, f, indent=1)

    def plan(self, inst: Instance) -> dict[str, Any]:
        env = self.env(inst)
        plan: dict[str, Any] = {"mode": self.mode, "minuteSeconds": self.minute_seconds, "epoch": self.epoch, "dir": inst.dir, "env": env,
                                "log": os.path.join(inst.dir, "cron.log"), "offsetFile": os.path.join(inst.dir, "clock-offset"), "jobs": self.jobs}
        if self.mode == "webapp-jobs":
            # The cron line the boot installs (its command after the user field), with this instance's paths:
            # webapp-env reads the instance's env file, webapp-jobs its configuration.
            command = self.product["cron_line"].split(" %s ", 1)[1]
            command = command.replace("/usr/local/bin/webapp-env", os.path.join(self.work, "bin", "webapp-env"))
            command = command.replace("/usr/local/bin/webapp-jobs", f"{self.runner} --config {inst.config_path}")
            plan["line"] = command.replace("%s", inst.dir).replace("\\n", "")
            env = {k: v for k, v in env.items() if not k.startswith(("REDIS_", "HARNESS_"))} | {"WEBAPP_ENV_FILE": self.env_file(inst), "WEBAPP_DIR": inst.dir}
            plan["env"] = env
        else:
            plan["runnerModule"] = self.runner
            # The old boot's line: cron-lock <job> <ttl> -- timeout -k 10 <max> ..., in real seconds here.
            ttl = lambda j: max(1, round(60 / self.scale))  # noqa: E731 - the shipped TTL equalled the period
            plan["jobLogs"] = {j["name"]: os.path.join(inst.dir, f"cron-{j['name']}.log") for j in self.jobs}
            plan["lines"] = {
                j["name"]: f"cron-lock {j['name']} {ttl(j)} -- timeout -k {max(1, round(10 / self.scale))} {max(1, round(j['maxRunSeconds'] / self.scale))} "
                f"/bin/bash {os.path.join(self.work, 'job.sh')} {j['name']} {self.runs_of[j['name']] / self.scale:.2f} >>{inst.dir}/cron-{j['name']}.log 2>&1"
                for j in self.jobs
            }
        return plan

    # ------------------------------------------------------------ faults
    def holder(self, job: str, timeout: float = 30) -> Instance | None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            running = self.runs.running(job)
            if running:
                return next(i for i in self.instances if i.name == running[0]["inst"])
            time.sleep(0.05)
        return None

    def kill_holder(self, phase: str, start: float) -> None:
        self.sleep_until(start + 15)
        victim = self.holder("long")
        if not victim:
            self.note(phase, "no run of long to kill")
            return
        victim.kill()
        self.note(phase, f"killed {victim.name} (every process) while it ran long")
        self.sleep_until(start + 75)
        victim.start()
        self.note(phase, f"{victim.name} booted again")

    def flaky(self, phase: str, start: float) -> None:
        slots = [slot for job, slot in self.expected_slots(start, start + 2 * 60) if job == "flaky"]
        with open(os.path.join(self.work, "fail-flaky"), "w") as f:
            f.write("".join(f"{slot}\n" for slot in slots))
        self.note(phase, f"flaky fails the first two attempts of {', '.join(slots)}")

    def skew(self, phase: str, start: float) -> None:
        # Set before the phase: the instance 29 s ahead fires for its first minute 29 s early.
        offsets = {"i1": 29.0, "i2": -29.0, "i3": 0.0}
        for inst in self.instances:
            inst.set_offset(offsets[inst.name])
        self.note(phase, "clocks: i1 +29 s, i2 -29 s, i3 0 (58 s apart), until the end of the next phase")

    def evict(self, phase: str, start: float) -> None:
        """Memory over the limit: session-like keys (with a TTL) fill the cache, then its limit drops below
        what it holds, and they keep coming. noeviction refuses every write that needs memory (a lock
        too); volatile-lru evicts keys with a TTL (a lock too)."""
        stop = threading.Event()

        def fill() -> None:
            n = 0
            while not stop.is_set():
                pipe = "".join(f"SET filler:{n + k} {'x' * 2048} EX 3600\n" for k in range(200))
                subprocess.run(["redis-cli", "--tls", "--cacert", self.tls["ca"], "-h", "127.0.0.1", "-p", str(self.redis_port)], input=pipe, env=dict(os.environ, REDISCLI_AUTH=TOKEN), capture_output=True, text=True)
                n += 200
                time.sleep(0.05)

        self.primary.cli("CONFIG", "SET", "maxmemory", "4mb")
        thread = threading.Thread(target=fill, daemon=True)
        thread.start()
        time.sleep(0.5)
        used = int(re.search(r"used_memory:(\d+)", self.primary.cli("INFO", "memory")[1]).group(1))  # type: ignore[union-attr]
        self.primary.cli("CONFIG", "SET", "maxmemory", str(int(used * 0.9)))
        self.note(phase, f"memory over its limit ({used // 1024} KiB held, limit {int(used * 0.9) // 1024} KiB), session-like keys still written (policy {self.primary.policy})")
        self.sleep_until(start + 60 - 1)
        stop.set()
        thread.join()
        info = self.primary.cli("INFO", "stats")[1]
        evicted = re.search(r"evicted_keys:(\d+)", info)
        self.note(phase, f"evicted keys: {evicted.group(1) if evicted else '?'}")
        self.primary.cli("CONFIG", "SET", "maxmemory", "0")
        self.primary.cli("EVAL", "for _, k in ipairs(redis.call('KEYS', 'filler:*')) do redis.call('UNLINK', k) end return 1", "0")

    def redis_restart(self, phase: str, start: float) -> None:
        # The instance 29 s ahead started this minute's long 29 s early; the restart loses its lock while it
        # runs, before the instance on time fires for the same minute.
        self.sleep_until(start - 20)
        self.primary.kill(signal.SIGTERM)
        self.primary.start()
        self.note(phase, "primary restarted while long ran (every key lost), 20 s before the minute")
        self.sleep_until(start + 40)
        for inst in self.instances:
            inst.set_offset(0)
        self.note(phase, "clocks back in step")

    def redis_down(self, phase: str, start: float) -> None:
        self.sleep_until(start + 40)
        self.primary.kill()
        self.note(phase, "primary down")
        self.sleep_until(start + 60 + 40)
        self.primary.start()
        self.note(phase, "primary back (empty)")

    def failover(self, phase: str, start: float) -> None:
        # The replica stops receiving just before a minute: the lock written at that minute is on the
        # primary only; then the primary dies and the replica is promoted at the same address.
        self.sleep_until(start + 60 - 3)
        self.replica.signal(signal.SIGSTOP)
        locks = lambda: {k: self.primary.cli("GET", k)[1] for k in self.primary.cli("KEYS", "lock:*")[1].split()}  # noqa: E731
        before = locks()
        deadline = time.time() + 10
        written = None
        while time.time() < deadline and not written:
            written = next((k for k, v in locks().items() if before.get(k) != v), None)
            time.sleep(0.02)
        self.primary.kill()
        self.replica.signal(signal.SIGCONT)
        self.replica.cli("REPLICAOF", "NO", "ONE")
        _, reply = self.replica.cli("CONFIG", "SET", "tls-port", str(self.redis_port))
        if reply != "OK":
            raise SystemExit(f"rehearse-jobs: the promoted replica cannot take the primary's port: {reply}")
        self.primary, self.replica = self.replica, self.primary
        self.primary.port = self.redis_port
        self.note(phase, f"primary killed after writing {written or 'nothing new'} unreplicated; replica promoted at the same address")

    def all_down(self, phase: str, start: float) -> None:
        # Down after the minute's claims, mid-run, until after three more slots' minutes.
        self.sleep_until(start + 30)
        for inst in self.instances:
            inst.kill()
        self.note(phase, "every instance down")
        self.sleep_until(start + 3 * 60 + 30)
        for inst in self.instances:
            inst.start()
        self.note(phase, "every instance booted again (3 slots later)")

    def switch(self, value: str) -> None:
        self.moto.ssm.put_parameter(Name=self.product["config"]["switchParameter"], Value=value, Type="String", Overwrite=True)

    def switch_off(self, phase: str, start: float) -> None:
        # Set before the phase's first minute, as an operator would: every tick of that minute reads it.
        self.switch("off")
        self.note(phase, f"{self.product['config']['switchParameter']} = off, {start - self.vnow():.0f} schedule seconds before the first slot")

    def switch_on(self, phase: str, start: float) -> None:
        self.switch("on")
        self.note(phase, f"{self.product['config']['switchParameter']} = on")

    def drain(self, phase: str, start: float) -> None:
        self.sleep_until(start + 15)
        holder = self.holder("long")
        if not holder:
            self.note(phase, "no run of long to drain")
            return
        if self.mode != "webapp-jobs":
            self.note(phase, f"cron-lock has no drain: {holder.name} keeps running long")
            return
        t = time.time()
        done = subprocess.run([self.runner, "--config", holder.config_path, "drain", "--timeout", "1"], env=self.env(holder), capture_output=True, text=True, timeout=120)
        self.note(phase, f"drained {holder.name} in {time.time() - t:.1f} s: exit {done.returncode}; {done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()}")
        if done.returncode != 0:
            self.failures.append(f"drain exited {done.returncode}: {done.stdout}{done.stderr}")
        self.sleep_until(start + 60 + 30)
        open(os.path.join(holder.state, "gate"), "w").close()
        self.note(phase, f"{holder.name} claims again (a later boot's gate)")

    # ------------------------------------------------------------ run and count
    def seed(self, first: float) -> None:
        """The fleet has been running: every slot before the first phase is done (the runner would otherwise
        catch up the slots of its backfill window from before this rehearsal started)."""
        spec = importlib.util.spec_from_loader("runner", importlib.machinery.SourceFileLoader("runner", self.runner))
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        for job in self.jobs:
            slots = [module.slot_id(t) for t in module.Schedule(job["schedule"]).slots(first - 3 * 3600, first - 1)]
            items = [{"job": {"S": job["name"]}, "slot": {"S": slot}, "status": {"S": "done"}, "attempt": {"N": "1"}, "fence": {"N": "1"}, "owner": {"S": "history"}} for slot in slots]
            items.append({"job": {"S": job["name"]}, "slot": {"S": "~cursor"}, "through": {"S": slots[-1]}})
            for i in range(0, len(items), 25):
                self.moto.dynamodb.batch_write_item(RequestItems={self.table: [{"PutRequest": {"Item": item}} for item in items[i : i + 25]]})

    def run(self) -> int:
        self.failures: list[str] = []
        first = (int(self.vnow() // 60) + 1) * 60
        if first - self.vnow() < 20:
            first += 60
        self.first_bound = first
        self.seed(first)
        for inst in self.instances:
            inst.start()
        say(f"{INSTANCES} instances ({self.mode}); one schedule minute = {self.minute_seconds} s; jobs: " + ", ".join(f"{j['name']} {j['schedule']!r}" for j in self.jobs))
        bounds: list[tuple[str, float, float]] = []
        t = first
        for name, minutes, _ in PHASES:
            bounds.append((name, t, t + minutes * 60))
            t += minutes * 60
        # Some faults begin before their phase's first minute (an instance ahead fires early).
        lead = {"skew": 40, "evict": 10, "redis_restart": 20, "switch_off": 5, "switch_on": 5}
        for (name, start, _end), (_, _, fault) in zip(bounds, PHASES):
            self.sleep_until(start - lead.get(fault, 0))
            say(f"phase: {name}")
            if fault:
                getattr(self, fault)(name, start)
        self.sleep_until(bounds[-1][2])
        self.settle(bounds[-1][2])
        return self.report(bounds)

    def expected_slots(self, start: float, end: float) -> list[tuple[str, str]]:
        spec = importlib.util.spec_from_loader("runner", importlib.machinery.SourceFileLoader("runner", self.runner))
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return [(j["name"], module.slot_id(t)) for j in self.jobs for t in module.Schedule(j["schedule"]).slots(start - 1, end - 1)]

    def recorded(self, job: str, slot: str) -> int:
        """Completions the runners recorded for a slot (their `done in` lines)."""
        count = 0
        for inst in self.instances:
            try:
                text = open(os.path.join(inst.dir, f"cron-{job}.log"), errors="replace").read()
            except OSError:
                continue
            count += text.count(f" {job} {slot}: done in ")
        return count

    def items(self) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for page in self.moto.dynamodb.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True):
            for item in page["Items"]:
                flat = {k: next(iter(v.values())) for k, v in item.items()}
                out[(flat["job"], flat["slot"])] = flat
        return out

    def settle(self, end: float) -> None:
        """Lets the last slots finish: until every slot is final (webapp-jobs), or two minutes (cron-lock)."""
        if self.mode != "webapp-jobs":
            self.sleep_until(end + 120)
            return
        wanted = self.expected_slots(self.real_first(), end)
        deadline = time.time() + 12 * 60 / self.scale
        while time.time() < deadline:
            items = self.items()
            if all(items.get(k, {}).get("status") in ("done", "missed", "dead", "held") for k in wanted):
                break
            time.sleep(0.5)
        say(f"settled {self.vnow() - end:.0f} schedule seconds after the last phase")

    def real_first(self) -> float:
        return self.first_bound

    def metric_points(self, start_real: float, end_real: float) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in ALARM_METRICS:
            for job in self.jobs:
                stats = self.moto.cloudwatch.get_metric_statistics(
                    Namespace=self.product["config"]["namespace"], MetricName=name, Dimensions=[{"Name": "Job", "Value": job["name"]}],
                    StartTime=dt.datetime.fromtimestamp(start_real, dt.timezone.utc), EndTime=dt.datetime.fromtimestamp(end_real, dt.timezone.utc),
                    Period=86400, Statistics=["Sum"],
                )
                total = int(sum(p["Sum"] for p in stats["Datapoints"]))
                if total:
                    counts[name] = counts.get(name, 0) + total
        return counts

    def report(self, bounds: list[tuple[str, float, float]]) -> int:
        items = self.items() if self.mode == "webapp-jobs" else {}
        with open(os.path.join(self.work, "items.json"), "w") as f:
            json.dump({f"{k[0]} {k[1]}": v for k, v in sorted(items.items())}, f, indent=1)
        rows = []
        totals = {"slots": 0, "once": 0, "twice": 0, "overlap": 0, "missed": 0, "held": 0, "lost": 0, "retried": 0, "job overlap": 0, "twice, holder died": 0}
        problems: list[str] = list(self.failures)
        totals_alarms: dict[str, int] = {}
        for index, (name, start, end) in enumerate(bounds):
            # Signals of a phase: from its start to the next phase's start (the last: to the end of settling).
            signal_end = self.real(bounds[index + 1][1]) if index + 1 < len(bounds) else time.time()
            row = {"slots": 0, "once": 0, "twice": 0, "overlap": 0, "missed": 0, "held": 0, "lost": 0, "retried": 0, "job overlap": 0, "twice, holder died": 0}
            for job, slot in self.expected_slots(start, end):
                row["slots"] += 1
                runs = self.runs.of(job, slot)
                completed = [r for r in runs if r.get("status") == 0]
                item = items.get((job, slot), {})
                overlaps = any(a is not b and a["start"] < b.get("end", time.time()) and b["start"] < a.get("end", time.time()) for a in runs for b in runs)
                if overlaps:
                    row["overlap"] += 1
                # Two slots of one job at once: what the job's Redis lock prevents while Redis keeps the key.
                others = [r for r in self.runs.all(job) if r.get("slot") != slot]
                if any(a["start"] < b.get("end", time.time()) and b["start"] < a.get("end", time.time()) for a in runs for b in others):
                    row["job overlap"] += 1
                if len(completed) == 1:
                    row["once"] += 1
                elif len(completed) > 1:
                    row["twice"] += 1
                elif item.get("status") == "missed":
                    row["missed"] += 1
                elif item.get("status") == "held" and not runs:
                    row["held"] += 1
                else:
                    row["lost"] += 1
                if int(item.get("attempt", 1)) > 1:
                    row["retried"] += 1
                if self.mode == "webapp-jobs":
                    # At least once: a run may complete twice only when the instance of an earlier one died
                    # between its job's end and the record (the record then lapses and the slot runs again).
                    explained = all(any(k[0] == r["inst"] and r["end"] <= k[1] <= r["end"] + 60 / self.scale * 2 for k in self.kills) for r in sorted(completed, key=lambda r: r["start"])[:-1])
                    if len(completed) > 1 and explained:
                        row["twice, holder died"] += 1
                    if item.get("status") == "missed" and not (name == "every instance down 3 slots" and job == "short-window"):
                        problems.append(f"{name}: {job} {slot} was missed, where its backfill window covers the fault")
                    if completed and item.get("status") != "done":
                        problems.append(f"{name}: {job} {slot} completed, but its record is {item.get('status')}")
                    if name == HELD_PHASE:
                        if runs or item.get("status") != "held":
                            problems.append(f"{name}: {job} {slot} ran {len(runs)} time(s), record {item.get('status')}, where the switch was off (held, no run)")
                    elif item.get("status") == "held":
                        problems.append(f"{name}: {job} {slot} was held, where the switch was on or absent")
                    elif (len(completed) > 1 and not explained) or overlaps or (not completed and item.get("status") != "missed"):
                        problems.append(f"{name}: {job} {slot}: {len(completed)} completions, runs {[(r['inst'], r['attempt'], r.get('status')) for r in runs]}, record {item.get('status')}")
            if self.mode == "webapp-jobs":
                alarms = self.metric_points(self.real(start), signal_end)
            else:
                alarms = self.old_alarms(self.real(start), signal_end)
            for metric_name, count in alarms.items():
                totals_alarms[metric_name] = totals_alarms.get(metric_name, 0) + count
            row["alarms"] = ", ".join(f"{k} {v}" for k, v in sorted(alarms.items())) or "-"
            if self.mode == "webapp-jobs" and name == HELD_PHASE and alarms.get("JobsMissed"):
                problems.append(f"{name}: {alarms['JobsMissed']} JobsMissed datapoint(s) while the switch held the slots")
            rows.append((name, row))
            for k in totals:
                totals[k] += row[k]
        header = f"{'fault':32} {'slots':>5} {'once':>5} {'twice':>5} {'overlap':>7} {'missed':>6} {'held':>5} {'lost':>5} {'retried':>7} {'job overlap':>11}  alarm datapoints"
        print(
            f"\n{self.mode}: per fault. once/twice = completed once/more than once; overlap = two runs of one slot at once; missed = recorded missed;"
            "\nheld = recorded held (the switch off), not run; lost = none of these; retried = run again by the runner; job overlap = a run overlapping another slot's run of its job"
            "\n(allowed: the job's Redis lock only keeps slots apart while Redis keeps the key); alarm datapoints = what reached CloudWatch"
        )
        print(header)
        for name, row in rows:
            print(f"{name:32} {row['slots']:5} {row['once']:5} {row['twice']:5} {row['overlap']:7} {row['missed']:6} {row['held']:5} {row['lost']:5} {row['retried']:7} {row['job overlap']:11}  {row['alarms']}")
        print(f"{'total':32} {totals['slots']:5} {totals['once']:5} {totals['twice']:5} {totals['overlap']:7} {totals['missed']:6} {totals['held']:5} {totals['lost']:5} {totals['retried']:7} {totals['job overlap']:11}")
        if totals["twice, holder died"]:
            print(f"twice: {totals['twice, holder died']} slot(s) whose job completed, then its instance died before the completion was recorded: run again elsewhere (at least once), recorded once")
        calls: dict[str, int] = {}
        if os.path.exists(os.path.join(self.work, "aws-calls")):
            for line in open(os.path.join(self.work, "aws-calls")):
                calls[line.strip()] = calls.get(line.strip(), 0) + 1
        if calls:
            print(f"AWS CLI calls: {sum(calls.values())} ({', '.join(f'{k} {v}' for k, v in sorted(calls.items(), key=lambda kv: -kv[1]))})")
        for name, notes in self.notes.items():
            for note in notes:
                print(f"  {name}: {note}")
        if self.mode != "webapp-jobs":
            return 0
        if totals["slots"] < 50:
            problems.append(f"only {totals['slots']} slots")
        # Each missed slot is a JobsMissed datapoint (recorded when its window ends, often in a later phase).
        if totals_alarms.get("JobsMissed", 0) < totals["missed"]:
            problems.append(f"{totals['missed']} missed slots but {totals_alarms.get('JobsMissed', 0)} JobsMissed datapoints")
        for p in problems:
            print(f"FAIL {p}")
        self.sample_load()
        cores = os.cpu_count() or 1
        load = self.max_load
        print(f"machine load: the 1-minute load average reached {load:.1f} on {cores} cores")
        if problems and load > 1.5 * cores:
            print(
                f"note: one schedule minute is {self.minute_seconds} s here, and the load reached {load:.1f} on {cores} cores: "
                "ticks and claims then run schedule minutes late. Run it again on an idle machine (or with a longer "
                "--minute-seconds) before reading these failures as the runner's."
            )
        return 1 if problems else 0

    def old_alarms(self, start_real: float, end_real: float) -> dict[str, int]:
        """What the old lock-failures metric filter would have counted: cron-lock's "not running" lines."""
        count = 0
        for inst in self.instances:
            stamp = 0.0
            try:
                lines = open(os.path.join(inst.dir, "cron.log"), errors="replace").read().splitlines()
            except OSError:
                continue
            for job in self.jobs:
                try:
                    lines += open(os.path.join(inst.dir, f"cron-{job['name']}.log"), errors="replace").read().splitlines()
                except OSError:
                    pass
            for line in lines:
                if line.startswith("--- "):
                    stamp = float(line.split()[1])
                elif "cron-lock:" in line and "not running" in line and start_real <= stamp < end_real:
                    count += 1
        return {"LockFailures (log filter)": count} if count else {}

    def cleanup(self) -> None:
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as err:  # noqa: BLE001
                print(f"cleanup: {err}", file=sys.stderr)
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            say(f"kept {self.work}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    inst = sub.add_parser("instance")
    inst.add_argument("--plan", required=True)
    parser.add_argument("--wrapper", choices=["webapp-jobs", "cron-lock"], default="webapp-jobs")
    # 10 s: each tick starts two AWS CLI calls at once (the table, the timed-jobs switch), about 0.6 s of CPU
    # each, on three instances at every minute; a shorter minute leaves a loaded 2-core machine behind it.
    parser.add_argument("--minute-seconds", type=float, default=10.0)
    parser.add_argument("--stack", default=os.path.join(ROOT, "cdktf.out", "stacks", "dev", "cdk.tf.json"))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--runner", help="run this file instead of the bundle's webapp-jobs (to see a check fail on a defect put in it)")
    args = parser.parse_args(argv)
    if args.command == "instance":
        serve_instance(args)
        return 0
    product = synthesized(args.stack)
    if args.runner:
        product["runner"] = open(args.runner).read()
        say(f"runner: {args.runner}, not the boot bundle's")
    rehearsal = Rehearsal(args, product)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    try:
        rehearsal.setup()
        code = rehearsal.run()
    finally:
        rehearsal.cleanup()
    print(f"rehearse-jobs: {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
