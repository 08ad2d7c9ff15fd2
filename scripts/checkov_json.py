"""Helpers for scripts/scan.sh.

strip SRC DST     Copy a synthesized cdk.tf.json without `terraform.required_version` (checkov 3.3.x
                  fails to parse a file that has it and then reports nothing) and assert that the copy
                  differs from the original by exactly that key.
report RESULT DIR [IDS]
                  Print per-stack passed/failed/skipped counts and the failed checks from checkov's
                  JSON output (of a run without skips); failures of the checks in IDS (comma-separated,
                  from the config's skip list) count as skipped. Exit 1 on any other failed check, a
                  parsing error, a stack with no checks, or a suppression inside the JSON.
skips CONFIG      Print the skip-check ids of the checkov config, failing on an entry without a reason.
"""

import copy
import json
import os
import re
import sys

STRIPPED = ("terraform", "required_version")


def leaf_paths(node, prefix=()):
    if isinstance(node, dict):
        if not node:
            yield prefix
        for key, value in node.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        if not node:
            yield prefix
        for i, value in enumerate(node):
            yield from leaf_paths(value, (*prefix, i))
    else:
        yield prefix


def strip(src, dst):
    with open(src, encoding="utf-8") as f:
        original = json.load(f)
    cleaned = copy.deepcopy(original)
    removed = cleaned.get(STRIPPED[0], {}).pop(STRIPPED[1], None) is not None
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(cleaned, f, indent=2)
        f.write("\n")

    # Nothing but terraform.required_version may be missing from what checkov reads.
    with open(dst, encoding="utf-8") as f:
        written = json.load(f)
    lost = set(leaf_paths(original)) - set(leaf_paths(written))
    added = set(leaf_paths(written)) - set(leaf_paths(original))
    allowed = {STRIPPED} if removed else set()
    if lost != allowed or added:
        sys.exit(f"checkov input for {src} differs beyond {'.'.join(STRIPPED)}: lost {sorted(map(str, lost))}, added {sorted(map(str, added))}")
    expected = copy.deepcopy(original)
    expected.get(STRIPPED[0], {}).pop(STRIPPED[1], None)
    if written != expected:
        sys.exit(f"checkov input for {src} is not the original minus {'.'.join(STRIPPED)}")


def skips(config):
    ids, in_list = [], False
    with open(config, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if re.match(r"^skip-check:\s*$", line):
                in_list = True
                continue
            if in_list and re.match(r"^\S", line) and not line.startswith("#"):
                in_list = False
            m = re.match(r"^\s+-\s+(\S+)\s*(?:#\s*(.*\S))?\s*$", line) if in_list else None
            if m:
                if not m.group(2):
                    sys.exit(f"{config}:{n}: skipped check {m.group(1)} has no '# reason'")
                ids.append(m.group(1))
    import yaml  # in checkov's venv

    with open(config, encoding="utf-8") as f:
        parsed = (yaml.safe_load(f) or {}).get("skip-check") or []
    if sorted(parsed) != sorted(ids):
        sys.exit(f"{config}: write skip-check as one '- CKV_ID  # reason' line per check (read {parsed}, understood {ids})")
    print(",".join(ids))


def resource_names(stack_file):
    """Map cdktf logical ids to type.name and construct path, for readable failure lines."""
    try:
        with open(stack_file, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError:
        return {}
    names = {}
    for kind in ("resource", "data"):
        for rtype, items in (doc.get(kind) or {}).items():
            for name, body in items.items():
                path = ((body.get("//") or {}).get("metadata") or {}).get("path", "")
                prefix = "data." if kind == "data" else ""
                names.setdefault(name, []).append((f"{prefix}{rtype}.{name}", path))
    return names


def report(result_file, stacks_dir, allowed_skips=""):
    """checkov runs with no skips; failures of listed checks are counted here as skipped, so the
    output shows what each skip hides and a stale entry is noticed."""
    with open(result_file, encoding="utf-8") as f:
        text = f.read()
    try:
        data = json.loads(text)
    except ValueError:
        sys.exit("scan: checkov did not produce JSON output:\n" + text[-2000:])
    if isinstance(data, list):
        data = next((d for d in data if d.get("check_type") == "terraform_json"), {})
    results = data.get("results", {})
    summary = data.get("summary", {})
    allowed = [i for i in allowed_skips.split(",") if i]

    stacks = sorted(d for d in os.listdir(stacks_dir) if os.path.isfile(os.path.join(stacks_dir, d, "cdk.tf.json")))
    counts = {s: {"passed": 0, "failed": 0, "skipped": 0} for s in stacks}
    failures = {s: [] for s in stacks}
    skipped = {s: {} for s in stacks}
    hits = dict.fromkeys(allowed, 0)
    bad = 0
    for key in ("passed_checks", "failed_checks", "skipped_checks"):
        for check in results.get(key, []):
            stack = check.get("file_path", "").strip("/").split("/")[0]
            counts.setdefault(stack, {"passed": 0, "failed": 0, "skipped": 0})
            if key == "passed_checks":
                counts[stack]["passed"] += 1
            elif key == "skipped_checks":
                # Suppressions inside the JSON would be a second skip list; only .checkov.yaml may skip.
                print(f"scan: {check['check_id']} suppressed on {check.get('resource')} ({check.get('file_path')}) outside the skip list: "
                      f"{(check.get('check_result') or {}).get('suppress_comment', '')}")
                bad += 1
            elif check["check_id"] in hits:
                counts[stack]["skipped"] += 1
                hits[check["check_id"]] += 1
                per = skipped.setdefault(stack, {})
                per[check["check_id"]] = per.get(check["check_id"], 0) + 1
            else:
                counts[stack]["failed"] += 1
                failures.setdefault(stack, []).append(check)

    if summary.get("parsing_errors", 0):
        print(f"scan: checkov could not parse {summary['parsing_errors']} file(s): {results.get('parsing_errors', data.get('parsing_errors', ''))}")
        bad += 1
    for stack in sorted(counts):
        c = counts[stack]
        status = "ok" if c["failed"] == 0 and c["passed"] > 0 else "FAIL"
        note = "" if c["passed"] or c["failed"] else "  (no checks ran)"
        print(f"scan: {stack:<24} {status:<5} passed {c['passed']:>4}  failed {c['failed']:>3}  skipped {c['skipped']:>3}{note}")
        if status != "ok":
            bad += 1
        if skipped.get(stack):
            print("    skipped: " + ", ".join(f"{i} x{n}" for i, n in sorted(skipped[stack].items())))
        names = resource_names(os.path.join(stacks_dir, stack, "cdk.tf.json"))
        for check in sorted(failures.get(stack, []), key=lambda c: (c["check_id"], c.get("resource", ""))):
            logical = check.get("resource", "").split(".")[-1]
            where = "; ".join(f"{addr} [{path}]" if path else addr for addr, path in names.get(logical, [])) or check.get("resource", "?")
            print(f"    FAILED {check['check_id']} {check['check_name']}\n        {where}")
    stale = [i for i, n in hits.items() if n == 0]
    if stale:
        print(f"scan: note: skip list entries that match nothing in these stacks: {', '.join(stale)}")
    return 1 if bad else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "strip":
        strip(argv[2], argv[3])
    elif len(argv) in (4, 5) and argv[1] == "report":
        sys.exit(report(*argv[2:]))
    elif len(argv) == 3 and argv[1] == "skips":
        skips(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
