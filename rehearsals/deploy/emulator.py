"""Starts and stops moto in server mode on a free loopback port, with the rehearsal's extension loaded.

    python rehearsals/deploy/emulator.py start --account-id 111111111111 --port-file F --pid-file F [--log F]
    python rehearsals/deploy/emulator.py stop --pid-file F

`start` returns once the emulator answers (at most --wait seconds), having written its port and PID;
`stop` ends that PID (SIGTERM, then SIGKILL after 10 s). Run them with the moto venv's python
($MOTO_PYTHON from scripts/tools-env.sh).

Clients reach the emulator in one of two ways:
- directly, endpoint http://127.0.0.1:PORT (boto3, the AWS CLI);
- as an HTTP proxy: HTTP_PROXY=http://127.0.0.1:PORT with endpoints on a host name that is never
  resolved, such as http://aws.emulator. The AWS provider prefixes some host names (S3 Control puts the
  account id in front), which no resolver knows; through the proxy the name is never looked up, and the
  request arrives unchanged (moto picks the service from the request's signature).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- serve / start / stop
def serve(args: argparse.Namespace) -> None:
    sys.path.insert(0, os.path.dirname(HERE))
    from deploy import gaps

    os.environ["MOTO_ACCOUNT_ID"] = args.account_id
    for key, value in gaps.SETTINGS.items():
        os.environ.setdefault(key, value)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app: Any = DomainDispatcherApplication(create_backend_app)
    if not args.no_extension:
        gaps.install()
        app = gaps.FixtureApi(gaps.CborBridge(app))
    class OneRequestPerConnection(MotoRequestHandler):
        # One request per connection: with keep-alive the provider saw answers go missing on reused
        # connections ("use of closed network connection"), and its retry of a create then found a duplicate.
        protocol_version = "HTTP/1.0"

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=OneRequestPerConnection)
    port = server.server_port
    tmp = f"{args.port_file}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"emulator: moto on 127.0.0.1:{port}, account {args.account_id}", flush=True)
    server.serve_forever()


def start(args: argparse.Namespace) -> None:
    for f in (args.port_file, args.pid_file):
        if os.path.exists(f):
            os.remove(f)
    log = open(args.log or os.devnull, "ab")
    cmd = [sys.executable, os.path.abspath(__file__), "serve", "--account-id", args.account_id, "--port-file", args.port_file]
    if args.no_extension:
        cmd.append("--no-extension")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with open(args.pid_file, "w") as f:
        f.write(f"{proc.pid}\n")
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"emulator: exited with {proc.returncode} before it listened (log: {args.log})")
        if os.path.exists(args.port_file):
            port = open(args.port_file).read().strip()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=5):
                    print(port)
                    return
            except OSError:
                pass
        time.sleep(0.2)
    _kill(proc.pid)
    sys.exit(f"emulator: not answering after {args.wait} s (log: {args.log})")


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for a parent that does not reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        if not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(args: argparse.Namespace) -> None:
    try:
        pid = int(open(args.pid_file).read().strip())
    except (OSError, ValueError):
        return
    _kill(pid)
    os.remove(args.pid_file)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--account-id", required=True)
        p.add_argument("--port-file", required=True)
        p.add_argument("--no-extension", action="store_true", help="plain moto, without the extensions in rehearsals/deploy/gaps.py")
        if name == "start":
            p.add_argument("--pid-file", required=True)
            p.add_argument("--log")
            p.add_argument("--wait", type=float, default=60)
    p = sub.add_parser("stop")
    p.add_argument("--pid-file", required=True)
    args = parser.parse_args(argv)
    {"start": start, "serve": serve, "stop": stop}[args.command](args)


if __name__ == "__main__":
    main(sys.argv[1:])
