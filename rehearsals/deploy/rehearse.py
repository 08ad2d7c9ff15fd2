"""Deploy rehearsal: the synthesized stacks, unchanged, applied by the real engine and AWS provider to moto.

Run by scripts/rehearse.sh, which starts the emulator and passes its port. Sequence:
  1. bootstrap: init (local state), apply, plan -detailed-exitcode = 0;
  2. the environments side by side: init with the S3 backend on the state bucket and lock table that
     bootstrap created, apply, checks in the emulator, plan -detailed-exitcode = 0;
  3. the environments' second plan as their CI plan role, with the emulator enforcing IAM;
  4. destroy: dev and staging directly; prod first refused by its protections, then lifted; bootstrap
     refused by prevent_destroy, then lifted.
Working copies live under --work; the repository is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from deploy import checks, gaps  # noqa: E402

REGION = "eu-west-2"
# Never resolved: clients reach it through the emulator acting as their HTTP proxy (see emulator.py).
ENDPOINT = "http://aws.emulator"
ENVIRONMENTS = ("dev", "staging", "prod")
# Key pair the rehearsal signs with while the emulator does not check IAM. moto takes a 12-digit
# access key id as the account id; the provider's allowed_account_ids check reads it back via STS.
FAKE_SECRET = "rehearsal-secret-key"
print_lock = threading.Lock()
# Engine processes running now, stopped (SIGTERM, then after 30 s SIGKILL) when the rehearsal is interrupted.
children: set[subprocess.Popen[bytes]] = set()
children_lock = threading.Lock()


def stop_children(signum: int, _frame: Any) -> None:
    with children_lock:
        procs = list(children)
    for p in procs:
        p.terminate()
    deadline = time.monotonic() + 30
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    os._exit(128 + signum)


def say(msg: str) -> None:
    with print_lock:
        print(msg, flush=True)


class Failed(Exception):
    pass


@dataclass
class Stack:
    name: str
    dir: str
    doc: dict[str, Any]
    times: dict[str, float] = field(default_factory=dict)
    resources: int = 0
    log: str = ""

    @property
    def account(self) -> str:
        return self.doc["provider"]["aws"][0]["allowed_account_ids"][0]

    def resources_of(self, kind: str) -> dict[str, Any]:
        return self.doc.get("resource", {}).get(kind, {})


# Deletion protections a destroy must run into, per resource type: the attribute and its lifted value.
API_PROTECTIONS = {
    "aws_db_instance": ("deletion_protection", False),
    "aws_lb": ("enable_deletion_protection", False),
    "aws_dynamodb_table": ("deletion_protection_enabled", False),
}


@dataclass
class Protections:
    """What should make `terraform destroy` of a stack refuse: prevent_destroy (the engine refuses to plan)
    and deletion protection (AWS refuses the delete call)."""

    prevent_destroy: list[tuple[str, str]]
    api: list[tuple[str, str]]

    @property
    def names(self) -> list[str]:
        return [f"{t}.{n} prevent_destroy" for t, n in self.prevent_destroy] + [f"{t}.{n} {API_PROTECTIONS[t][0]}" for t, n in self.api]

    def assert_refused(self, stack: Stack, out: str, client: Callable[[str], Any]) -> None:
        out = " ".join(out.split())  # diagnostics are wrapped
        if self.prevent_destroy:
            # The engine stops at plan time, before any change: every such resource is named.
            for t, n in self.prevent_destroy:
                if f"Resource {t}.{n} has lifecycle.prevent_destroy set" not in out:
                    raise Failed(f"{stack.name}: destroy did not stop on prevent_destroy of {t}.{n}:\n{out[-3000:]}")
            return
        errors = [e for e in out.split("Error: ")[1:] if e.startswith("deleting ")]
        for t, n in self.api:
            r = stack.resources_of(t)[n]
            name = r.get("identifier") or r.get("name")
            if not any(f"({name})" in e or f"/{name}/" in e for e in errors):
                raise Failed(f"{stack.name}: destroy was not refused for {t}.{n} ({API_PROTECTIONS[t][0]}):\n{out[-3000:]}")
        checks.still_there(client, stack, self.api)

    def lift(self, stack: Stack) -> tuple[dict[str, Any], list[str]]:
        resource: dict[str, dict[str, Any]] = {}
        for t, n in self.prevent_destroy:
            resource.setdefault(t, {}).setdefault(n, {})["lifecycle"] = {"prevent_destroy": False}
        for t, n in self.api + [x for x in self.prevent_destroy if x[0] in API_PROTECTIONS]:
            attr, value = API_PROTECTIONS[t]
            if stack.resources_of(t)[n].get(attr):
                resource.setdefault(t, {}).setdefault(n, {})[attr] = value
        targets = [f"-target={t}.{n}" for t, names in resource.items() for n in names]
        return {"resource": resource}, targets


def protections(stack: Stack) -> Protections | None:
    keep = [(t, n) for t, items in stack.doc.get("resource", {}).items() for n, r in items.items() if r.get("lifecycle", {}).get("prevent_destroy")]
    api = [(t, n) for t, (attr, _) in API_PROTECTIONS.items() for n, r in stack.resources_of(t).items() if r.get(attr)]
    return Protections(keep, api) if keep or api else None


class Rehearsal:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.port = args.port
        self.work = args.work
        self.tf = args.tf_bin
        self.failures: list[str] = []

    # ------------------------------------------------------------ environment of every engine run
    def env(self, creds: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k.lower() not in ("no_proxy", "https_proxy", "http_proxy", "all_proxy")}
        proxy = f"http://127.0.0.1:{self.port}"
        env.update(
            {
                "HTTP_PROXY": proxy,
                "http_proxy": proxy,
                "AWS_ENDPOINT_URL": ENDPOINT,
                "AWS_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true",
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
            }
        )
        env.update(creds or self.admin_creds)
        return env

    @property
    def admin_creds(self) -> dict[str, str]:
        return self._admin

    # ------------------------------------------------------------ engine runs
    def run(self, stack: Stack, step: str, argv: list[str], ok: tuple[int, ...] = (0,), creds: dict[str, str] | None = None, record: bool = True) -> tuple[int, str]:
        log_path = os.path.join(self.work, "logs", f"{stack.name}-{step}.log")
        start = time.monotonic()
        cmd = [self.tf, *argv, "-no-color", "-input=false"] if argv[0] in ("init", "plan", "apply", "destroy") else [self.tf, *argv]
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, cwd=stack.dir, env=self.env(creds), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            with children_lock:
                children.add(proc)
            try:
                proc.wait(timeout=self.args.step_timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait(timeout=60)
                raise Failed(f"{stack.name}: terraform {argv[0]} ({step}) did not finish in {self.args.step_timeout} s (log: {log_path})") from None
            finally:
                with children_lock:
                    children.discard(proc)
        took = time.monotonic() - start
        if record:
            stack.times[step] = stack.times.get(step, 0.0) + took
        out = open(log_path).read()
        if proc.returncode not in ok:
            tail = "\n".join(out.rstrip().splitlines()[-60:])
            raise Failed(f"{stack.name}: terraform {argv[0]} ({step}) exited {proc.returncode} after {took:.0f} s:\n{tail}\n(full log: {log_path})")
        say(f"rehearse: {stack.name}: {step} exited {proc.returncode} ({took:.1f} s)")
        return proc.returncode, out

    def plan_no_changes(self, stack: Stack, step: str, creds: dict[str, str] | None = None) -> None:
        code, out = self.run(stack, step, ["plan", "-detailed-exitcode", "-lock-timeout=60s"], ok=(0, 2), creds=creds)
        if code == 2:
            changes = [line[:200] for line in out.splitlines() if line.strip().startswith(("#", "~", "+", "-", "Plan:"))]
            raise Failed(f"{stack.name}: {step}: the plan after apply is not empty (a perpetual diff):\n" + "\n".join(changes[:120]))

    # ------------------------------------------------------------ working copies
    def prepare(self, name: str) -> Stack:
        src = os.path.join(self.args.stacks, name, "cdk.tf.json")
        doc = json.load(open(src))
        dest = os.path.join(self.work, "cdktf.out", "stacks", name)
        os.makedirs(dest, exist_ok=True)
        shutil.copyfile(src, os.path.join(dest, "cdk.tf.json"))
        stack = Stack(name, dest, doc)
        stack.resources = sum(len(v) for v in doc.get("resource", {}).values())
        self.write_override(stack, "rehearsal_override.tf.json", self.emulator_override())
        if os.environ.get("REHEARSAL_DEV_PROVIDER"):  # TEMPORARY
            self.write_override(stack, "zz_dev_override.tf.json", {"terraform": {"required_providers": {"aws": {"source": "aws", "version": os.environ["REHEARSAL_DEV_PROVIDER"]}}}})
        return stack

    def emulator_override(self) -> dict[str, Any]:
        provider: dict[str, Any] = {
            # moto answers an operation it lacks with HTTP 500, which the SDK otherwise retries for minutes.
            "max_retries": 3,
            "s3_use_path_style": True,
            "skip_metadata_api_check": "true",
        }
        return {"provider": {"aws": [provider]}}

    @staticmethod
    def write_override(stack: Stack, name: str, doc: dict[str, Any]) -> None:
        with open(os.path.join(stack.dir, name), "w") as f:
            json.dump(doc, f, indent=2)

    # ------------------------------------------------------------ the sequence
    def bootstrap(self) -> Stack:
        boot = self.prepare("bootstrap")
        self.run(boot, "init", ["init"])
        self.run(boot, "apply", ["apply", "-auto-approve"])
        checks.after_bootstrap(self.client_factory(), boot)
        self.plan_no_changes(boot, "plan")
        return boot

    def environment_up(self, name: str, boot: Stack) -> Stack:
        stack = self.prepare(name)
        backend = stack.doc["terraform"]["backend"]["s3"]
        boot_bucket = checks.state_bucket(boot)["bucket"]
        if backend["bucket"] != boot_bucket:
            raise Failed(f"{name}: backend bucket {backend['bucket']} is not the bootstrap's state bucket {boot_bucket}")
        self.existing_hosted_zones(stack)
        # The real S3 backend, as synthesized; only where it connects to (path-style, like the provider).
        self.run(stack, "init", ["init", "-backend-config=use_path_style=true"])
        self.run(stack, "apply", ["apply", "-auto-approve", "-lock-timeout=60s"])
        checks.after_apply(self.client_factory(), stack, backend)
        self.plan_no_changes(stack, "plan")
        return stack

    def existing_hosted_zones(self, stack: Stack) -> None:
        """The account as the stack expects it: the Route 53 zones it references by id exist (named after the
        common parent of the stack's record names there)."""
        names: dict[str, list[list[str]]] = {}
        for record in stack.resources_of("aws_route53_record").values():
            zone, name = record["zone_id"], record["name"]
            if "${" in zone:
                continue
            if "${" not in name:
                names.setdefault(zone, []).append(name.rstrip(".").split(".")[::-1])
            else:
                names.setdefault(zone, [])
        for zone, labels in names.items():
            common: list[str] = []
            for parts in zip(*labels):
                if len(set(parts)) != 1:
                    break
                common.append(parts[0])
            apex = ".".join(reversed(common)) or f"{stack.name}.rehearsal.test"
            body = json.dumps({"account": stack.account, "id": zone, "name": apex}).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{self.port}/rehearsal-api/hosted-zone", data=body, method="POST", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            say(f"rehearse: {stack.name}: existing hosted zone {zone} ({apex})")

    def destroy(self, stack: Stack) -> None:
        guard = protections(stack)
        if guard is None:
            self.run(stack, "destroy", ["destroy", "-auto-approve", "-lock-timeout=60s"])
        else:
            _, out = self.run(stack, "destroy-refused", ["destroy", "-auto-approve", "-lock-timeout=60s"], ok=(1,), record=False)
            guard.assert_refused(stack, out, self.client_factory())
            say(f"rehearse: {stack.name}: destroy refused as it should be: {', '.join(guard.names)}")
            lift, targets = guard.lift(stack)
            self.write_override(stack, "rehearsal_lift_override.tf.json", lift)
            self.run(stack, "lift", ["apply", "-auto-approve", "-lock-timeout=60s", *targets], record=False)
            # The state bucket still holds the environments' (now empty) states, in versions; the rehearsal
            # removes its own leftovers one version at a time (moto 5.2.5 fails the batch DeleteObjects that
            # force_destroy sends).
            for t, n in guard.prevent_destroy:
                if t == "aws_s3_bucket":
                    checks.empty_bucket(self.client_factory(), stack.resources_of(t)[n]["bucket"])
            self.run(stack, "destroy", ["destroy", "-auto-approve", "-lock-timeout=60s"])
        _, out = self.run(stack, "state-list", ["state", "list"], record=False)
        if out.strip():
            raise Failed(f"{stack.name}: state not empty after destroy:\n{out}")

    def client_factory(self, creds: dict[str, str] | None = None) -> Callable[[str], Any]:
        import boto3

        c = creds or self.admin_creds

        def client(service: str) -> Any:
            return boto3.client(
                service,
                region_name=REGION,
                endpoint_url=f"http://127.0.0.1:{self.port}",
                aws_access_key_id=c["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=c["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=c.get("AWS_SESSION_TOKEN"),
            )

        return client

    def set_auth(self, enforce: bool) -> None:
        body = b"0" if enforce else b"inf"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/moto-api/reset-auth", data=body, method="POST", headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def main(self) -> int:
        os.makedirs(os.path.join(self.work, "logs"), exist_ok=True)
        names = sorted(os.listdir(self.args.stacks))
        docs = {n: json.load(open(os.path.join(self.args.stacks, n, "cdk.tf.json"))) for n in names}
        gaps.check_coverage(docs)
        account = docs["bootstrap"]["provider"]["aws"][0]["allowed_account_ids"][0]
        for n, d in docs.items():
            if d["provider"]["aws"][0]["allowed_account_ids"] != [account]:
                raise Failed(f"{n}: allowed_account_ids {d['provider']['aws'][0]['allowed_account_ids']} differ from bootstrap's [{account}]; one emulator per account is not wired up")
        self._admin = {"AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET}
        envs = [e for e in ENVIRONMENTS if e in names and e in self.args.only]
        t0 = time.monotonic()
        boot = self.bootstrap()
        stacks: dict[str, Stack] = {}
        with ThreadPoolExecutor(max_workers=len(envs) or 1) as pool:
            futures = {e: pool.submit(self.environment_up, e, boot) for e in envs}
            errors = []
            for e, f in futures.items():
                try:
                    stacks[e] = f.result()
                except Exception as exc:  # noqa: BLE001
                    errors.append(str(exc))
            if errors:
                raise Failed("\n\n".join(errors))
            if self.args.plan_role:
                roles = checks.plan_roles(boot, envs)
                # AssumeRoleWithWebIdentity is an unsigned call (the OIDC token is the credential), which moto
                # cannot take while it checks signatures: the sessions are opened first.
                creds = {e: checks.assume_plan_role(self.client_factory(), roles[e], e) for e in envs}
                self.set_auth(True)
                try:
                    for f in [pool.submit(self.plan_no_changes, stacks[e], "plan-as-ci-role", creds[e]) for e in envs]:
                        f.result()
                finally:
                    self.set_auth(False)
            for f in [pool.submit(self.destroy, stacks[e]) for e in envs]:
                f.result()
        self.destroy(boot)
        checks.after_destroy(self.client_factory(), boot, envs)
        total = time.monotonic() - t0
        self.report([boot, *[stacks[e] for e in envs]], total)
        return 0

    def report(self, stacks: list[Stack], total: float) -> None:
        steps = ["init", "apply", "plan", "plan-as-ci-role", "destroy"]
        lines = ["| stack | resources | " + " | ".join(steps) + " |", "|---|---:|" + "---:|" * len(steps)]
        for s in stacks:
            lines.append(f"| {s.name} | {s.resources} | " + " | ".join(f"{s.times[k]:.0f} s" if k in s.times else "-" for k in steps) + " |")
        say("rehearse: figures (wall time per step; environments side by side after bootstrap)")
        say("\n".join(lines))
        say(f"rehearse: all {len(stacks)} stacks applied, planned with no changes and destroyed in {total:.0f} s")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--stacks", required=True, help="cdktf.out/stacks")
    p.add_argument("--work", required=True)
    p.add_argument("--tf-bin", default="terraform")
    p.add_argument("--only", nargs="*", default=list(ENVIRONMENTS))
    p.add_argument("--no-plan-role", dest="plan_role", action="store_false")
    p.add_argument("--step-timeout", type=int, default=900)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, stop_children)
    signal.signal(signal.SIGINT, stop_children)
    try:
        return Rehearsal(args).main()
    except (Failed, checks.CheckFailed) as e:
        print(f"rehearse: FAILED\n{e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
