"""Turns bench/out/results.tsv and latency.tsv (written by bench/run.sh) into the tables of bench/RESULTS.md.

Ratios are taken per round between runs of the same session and round (the targets ran back to back), then
summarised as median [min-max] over every round of every session, plus the median of each session.
"""
import argparse
import statistics
import sys
from collections import defaultdict

COLUMNS = ["session", "phase", "target", "round", "requests", "seconds", "rps", "cpu", "upstream_cpu",
           "alloc", "table_ops", "storage", "non2xx"]


def read_results(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != len(COLUMNS):
                continue
            row = dict(zip(COLUMNS, parts))
            for k in COLUMNS[3:]:
                row[k] = float(row[k])
            rows.append(row)
    return rows


def paired(rows, phase):
    """{(session, round): {target: row}} for one phase."""
    pairs = defaultdict(dict)
    for r in rows:
        if r["phase"] == phase:
            pairs[(r["session"], r["round"])][r["target"]] = r
    return pairs


def summary(values_by_session, fmt):
    everything = [v for vs in values_by_session.values() for v in vs]
    if not everything:
        return "n/a", "", ""
    session_medians = [statistics.median(vs) for _, vs in sorted(values_by_session.items())]
    return (fmt(statistics.median(everything)),
            f"{fmt(min(everything))} – {fmt(max(everything))}",
            ", ".join(fmt(m) for m in session_medians))


def metric(pairs, needs, f):
    by_session = defaultdict(list)
    for (session, _), targets in sorted(pairs.items()):
        if all(t in targets for t in needs):
            by_session[session].append(f(targets))
    return by_session


def per_request(row, key, scale=1.0):
    return row[key] * scale / row["requests"] if row["requests"] else float("nan")


def table(title, lines):
    print(f"\n{title}\n")
    print("| metric | median | min – max (rounds) | per-session medians |")
    print("|---|---|---|---|")
    for name, (median, span, sessions) in lines:
        print(f"| {name} | {median} | {span} | {sessions} |")


def f2(v): return f"{v:.2f}"
def f3(v): return f"{v:.3f}"
def f0(v): return f"{v:,.0f}"
def f1(v): return f"{v:.1f}"
def f4(v): return f"{v:.4f}"
def pct(v): return f"{v * 100:.0f} %"


def main_table(rows, phase, with_direct):
    pairs = paired(rows, phase)
    gp = ["gateway", "plain"]
    lines = [
        ("requests/s: gateway", metric(pairs, gp, lambda t: t["gateway"]["rps"]), f0),
        ("requests/s: plain YARP", metric(pairs, gp, lambda t: t["plain"]["rps"]), f0),
    ]
    if with_direct:
        lines.append(("requests/s: direct upstream", metric(pairs, ["direct"], lambda t: t["direct"]["rps"]), f0))
    lines.append(("**requests/s gateway ÷ plain YARP** (target ≥ 0.95)",
                  metric(pairs, gp, lambda t: t["gateway"]["rps"] / t["plain"]["rps"]), f3))
    if with_direct:
        lines.append(("requests/s gateway ÷ direct upstream",
                      metric(pairs, ["gateway", "direct"], lambda t: t["gateway"]["rps"] / t["direct"]["rps"]), f3))
        lines.append(("requests/s plain YARP ÷ direct upstream",
                      metric(pairs, ["plain", "direct"], lambda t: t["plain"]["rps"] / t["direct"]["rps"]), f3))
    lines += [
        ("CPU µs/request: gateway process", metric(pairs, gp, lambda t: per_request(t["gateway"], "cpu", 1e6)), f1),
        ("CPU µs/request: plain YARP process", metric(pairs, gp, lambda t: per_request(t["plain"], "cpu", 1e6)), f1),
    ]
    if with_direct:
        lines.append(("CPU µs/request: upstream (direct)", metric(pairs, ["direct"], lambda t: per_request(t["direct"], "cpu", 1e6)), f1))
    lines += [
        ("**CPU/request gateway ÷ plain YARP** (target ≤ 1.05)",
         metric(pairs, gp, lambda t: per_request(t["gateway"], "cpu") / per_request(t["plain"], "cpu")), f3),
        ("proxy CPU busy while loaded: gateway", metric(pairs, gp, lambda t: t["gateway"]["cpu"] / t["gateway"]["seconds"]), pct),
        ("proxy CPU busy while loaded: plain YARP", metric(pairs, gp, lambda t: t["plain"]["cpu"] / t["plain"]["seconds"]), pct),
        ("allocated B/request: gateway", metric(pairs, gp, lambda t: per_request(t["gateway"], "alloc")), f0),
        ("allocated B/request: plain YARP", metric(pairs, gp, lambda t: per_request(t["plain"], "alloc")), f0),
        ("**extra allocated B/request** (target ≤ 256)",
         metric(pairs, gp, lambda t: per_request(t["gateway"], "alloc") - per_request(t["plain"], "alloc")), f0),
        ("usage-flush table operations/request",
         metric(pairs, gp, lambda t: per_request(t["gateway"], "table_ops")), f4),
        ("**all Table Storage requests/request** (target ≤ 0.01)",
         metric(pairs, gp, lambda t: per_request(t["gateway"], "storage")), f4),
        ("non-2xx responses (gateway + plain)", metric(pairs, gp, lambda t: t["gateway"]["non2xx"] + t["plain"]["non2xx"]), f0),
    ]
    table(f"### {phase}", [(name, summary(values, fmt)) for name, values, fmt in lines])


def latency_table(path):
    pairs = defaultdict(dict)
    rate = None
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 11 or parts[0] != "latency":
                    continue
                _, session, target, rnd, rate, p50, p99, p999, mx, completed, errors = parts
                pairs[(session, rnd)][target] = dict(p50=float(p50), p99=float(p99), p999=float(p999), errors=int(errors))
    except FileNotFoundError:
        return
    if not pairs:
        return
    gp = ["gateway", "plain"]
    lines = [
        ("p50 µs: direct upstream", metric(pairs, ["direct"], lambda t: t["direct"]["p50"]), f0),
        ("p50 µs: plain YARP", metric(pairs, gp, lambda t: t["plain"]["p50"]), f0),
        ("p50 µs: gateway", metric(pairs, gp, lambda t: t["gateway"]["p50"]), f0),
        ("**added p50 µs, gateway − plain YARP** (target ≤ 100)", metric(pairs, gp, lambda t: t["gateway"]["p50"] - t["plain"]["p50"]), f0),
        ("p99 µs: direct upstream", metric(pairs, ["direct"], lambda t: t["direct"]["p99"]), f0),
        ("p99 µs: plain YARP", metric(pairs, gp, lambda t: t["plain"]["p99"]), f0),
        ("p99 µs: gateway", metric(pairs, gp, lambda t: t["gateway"]["p99"]), f0),
        ("**added p99 µs, gateway − plain YARP** (target ≤ 500)", metric(pairs, gp, lambda t: t["gateway"]["p99"] - t["plain"]["p99"]), f0),
        ("added p50 µs, gateway − direct upstream", metric(pairs, ["gateway", "direct"], lambda t: t["gateway"]["p50"] - t["direct"]["p50"]), f0),
        ("added p99 µs, gateway − direct upstream", metric(pairs, ["gateway", "direct"], lambda t: t["gateway"]["p99"] - t["direct"]["p99"]), f0),
        ("failed requests (all targets)", metric(pairs, gp, lambda t: sum(x["errors"] for x in t.values())), f0),
    ]
    table(f"### Latency at a fixed 50 % load (open loop, last session's rate: {rate} requests/s)",
          [(name, summary(values, fmt)) for name, values, fmt in lines])


def scaling_table(rows):
    phases = [p for p in dict.fromkeys(r["phase"] for r in rows) if p != "1key-1group"]
    if not phases:
        return
    print("\n### Scaling with active keys and route groups (gateway vs plain YARP, medians over rounds)\n")
    print("| keys × route groups | req/s gateway ÷ plain | CPU/request gateway ÷ plain | gateway CPU µs/request "
          "| extra B/request | flush table ops/request | all storage requests/request |")
    print("|---|---|---|---|---|---|---|")
    for phase in ["1key-1group"] + phases:
        pairs = paired(rows, phase)
        gp = ["gateway", "plain"]

        def med(f):
            values = [v for vs in metric(pairs, gp, f).values() for v in vs]
            return statistics.median(values) if values else float("nan")
        name = phase.replace("key-", " key × ").replace("keys-", " keys × ").replace("group", " group")
        print(f"| {name} | {med(lambda t: t['gateway']['rps'] / t['plain']['rps']):.3f} "
              f"| {med(lambda t: per_request(t['gateway'], 'cpu') / per_request(t['plain'], 'cpu')):.3f} "
              f"| {med(lambda t: per_request(t['gateway'], 'cpu', 1e6)):.1f} "
              f"| {med(lambda t: per_request(t['gateway'], 'alloc') - per_request(t['plain'], 'alloc')):,.0f} "
              f"| {med(lambda t: per_request(t['gateway'], 'table_ops')):.4f} "
              f"| {med(lambda t: per_request(t['gateway'], 'storage')):.4f} |")


def check(path, floor, cpu_limit, keys, keys_alloc_limit, keys_storage_limit):
    """The smoke verdict. Noisy measures (requests/s, CPU/request) are medians over rounds, each a ratio within one
    round, against limits chosen from their measured spread; the deterministic ones (allocation, storage requests,
    errors) against their targets. With many keys, the per-key costs: storage requests and allocation per request."""
    rows = read_results(path)
    pairs = paired(rows, "1key-1group")
    both = [t for t in pairs.values() if "gateway" in t and "plain" in t]
    if not both:
        print("smoke: no paired rounds: FAIL")
        return 1
    ratio = statistics.median(t["gateway"]["rps"] / t["plain"]["rps"] for t in both)
    cpu = statistics.median(per_request(t["gateway"], "cpu") / per_request(t["plain"], "cpu") for t in both)
    extra = statistics.median(per_request(t["gateway"], "alloc") - per_request(t["plain"], "alloc") for t in both)
    storage = sum(t["gateway"]["storage"] for t in both) / sum(t["gateway"]["requests"] for t in both)
    failures = sum(t["gateway"]["non2xx"] for t in both)
    checks = [
        (f"CPU/request gateway ÷ plain YARP, median of {len(both)} rounds: {cpu:.3f} (limit {cpu_limit})", cpu <= cpu_limit),
        (f"requests/s gateway ÷ plain YARP, median of {len(both)} rounds: {ratio:.3f} (floor {floor})", ratio >= floor),
        (f"extra allocated B/request, median: {extra:.0f} (limit 256)", extra <= 256),
        (f"Table Storage requests/request: {storage:.5f} (limit 0.01)", storage <= 0.01),
        (f"gateway non-2xx responses: {failures:.0f} (limit 0)", failures == 0),
    ]
    if keys > 0:
        many = [t for t in paired(rows, f"{keys}keys-1group").values() if "gateway" in t and "plain" in t]
        if not many:
            checks.append((f"{keys} keys: no paired rounds", False))
        else:
            # Sums over the rounds: a flush of every key's rows lands in some rounds and not others.
            def total(target, key):
                return sum(t[target][key] for t in many) / sum(t[target]["requests"] for t in many)
            k_extra = total("gateway", "alloc") - total("plain", "alloc")
            k_storage = total("gateway", "storage")
            k_failures = sum(t["gateway"]["non2xx"] for t in many)
            checks += [
                (f"{keys} keys: extra allocated B/request over {len(many)} rounds: {k_extra:.0f} (limit {keys_alloc_limit:.0f})",
                 k_extra <= keys_alloc_limit),
                (f"{keys} keys: Table Storage requests/request: {k_storage:.5f} (limit {keys_storage_limit})", k_storage <= keys_storage_limit),
                (f"{keys} keys: gateway non-2xx responses: {k_failures:.0f} (limit 0)", k_failures == 0),
            ]
    print()
    for text, ok in checks:
        print(f"smoke: {'PASS' if ok else 'FAIL'}  {text}")
    failed = [text for text, ok in checks if not ok]
    if failed:
        print(f"\nsmoke: FAILED {len(failed)} of {len(checks)} checks; rounds: {path}")
    return 1 if failed else 0


def main():
    if sys.argv[1] == "--check":
        parser = argparse.ArgumentParser(prog="summarize.py --check")
        parser.add_argument("results")
        parser.add_argument("--floor", type=float, required=True)
        parser.add_argument("--cpu-limit", type=float, required=True)
        parser.add_argument("--keys", type=int, default=0)
        parser.add_argument("--keys-alloc-limit", type=float, default=4096)
        parser.add_argument("--keys-storage-limit", type=float, default=0.01)
        a = parser.parse_args(sys.argv[2:])
        sys.exit(check(a.results, a.floor, a.cpu_limit, a.keys, a.keys_alloc_limit, a.keys_storage_limit))
    rows = read_results(sys.argv[1])
    main_table(rows, "1key-1group", with_direct=True)
    if len(sys.argv) > 2:
        latency_table(sys.argv[2])
    scaling_table(rows)


if __name__ == "__main__":
    main()
