#!/usr/bin/env python3
"""Revocation delay across gateway instances: load on one key through every gateway, revoke it through one admin
port, and measure how long each instance keeps serving it after the revoke's response. Started by revocation.sh,
which starts the gateways; standard library only.

Per round it prints, per instance: calls sent, served (200), calls started after the revoke's response and how many
of those were served, and when (relative to the response) the last 200 started. A negative time means the instance
had stopped serving before the response reached the client.
"""
import argparse
import http.client
import json
import sys
import threading
import time


def request(conn, method, path, token=None, key=None, body=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["X-Api-Key"] = key
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    return response.status, payload


class Load:
    """Workers per gateway calling GET /v1/posts/42 with the key until stopped; every call recorded."""

    def __init__(self, gateways, key, workers):
        self.calls = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ok = [0] * len(gateways)
        self.threads = [threading.Thread(target=self.work, args=(i, host, port, key), daemon=True)
                        for i, (host, port, _) in enumerate(gateways) for _ in range(workers)]

    def served(self, instance):
        return self.ok[instance]

    def work(self, instance, host, port, key):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        mine = []
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                status, _ = request(conn, "GET", "/v1/posts/42", key=key)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
            mine.append((instance, started, time.monotonic(), status))
            if status == 200:
                self.ok[instance] += 1
        with self.lock:
            self.calls.extend(mine)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return self.calls


def run_round(args, gateways, customer, admin_of, title, after, bound):
    host, port, admin = gateways[0]
    conn = http.client.HTTPConnection(host, admin, timeout=30)
    status, body = request(conn, "POST", "/admin/v1/keys", token=args.token, body={"customerId": customer, "plan": "basic"})
    assert status in (200, 201), (status, body)
    issued = json.loads(body)
    key_id, key = issued["id"], issued["key"]

    load = Load(gateways, key, args.workers)
    load.start()
    # Warm: every instance has served the key at least 20 times (so every cache holds it) and the warm-up time passed.
    deadline = time.monotonic() + 60
    time.sleep(args.warmup)
    while min(load.served(i) for i in range(len(gateways))) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)

    revoke_host, _, revoke_admin = gateways[admin_of]
    conn = http.client.HTTPConnection(revoke_host, revoke_admin, timeout=30)
    sent_at = time.monotonic()
    status, body = request(conn, "POST", f"/admin/v1/keys/{key_id}/revoke", token=args.token)
    answered = time.monotonic()
    assert status == 200, (status, body)
    time.sleep(after)
    calls = load.finish()

    result = {"title": title, "revoke_ms": (answered - sent_at) * 1000, "instances": [], "server_errors": 0, "violations": 0}
    for i in range(len(gateways)):
        mine = [c for c in calls if c[0] == i]
        late = [c for c in mine if c[1] > answered]
        served = [c for c in mine if c[3] == 200]
        last = max((c[1] for c in served), default=None)
        beyond = [c for c in mine if c[1] > answered + bound and c[3] == 200]
        errors = [c for c in mine if c[3] == 0 or c[3] >= 500]
        served_before = len([c for c in served if c[2] < sent_at])
        result["instances"].append({
            "sent": len(mine), "served": len(served), "served_before": served_before,
            "after_sent": len(late), "after_served": len([c for c in late if c[3] == 200]),
            "last_served_ms": None if last is None else (last - answered) * 1000,
            "beyond_bound": len(beyond), "server_errors": len(errors),
        })
        result["server_errors"] += len(errors)
        result["violations"] += len(beyond)
        result["unwarmed"] = result.get("unwarmed", 0) + (1 if served_before == 0 else 0)
    return result


def report(result, bound):
    print(f"{result['title']}: revoke answered in {result['revoke_ms']:.0f} ms; bound {bound * 1000:.0f} ms after the response")
    for i, r in enumerate(result["instances"]):
        last = "none" if r["last_served_ms"] is None else f"{r['last_served_ms']:+.0f} ms"
        print(f"  gateway-{i + 1}: sent {r['sent']}, served {r['served']} ({r['served_before']} before the revoke); "
              f"after the response sent {r['after_sent']}, served {r['after_served']}; last 200 started at {last}; "
              f"served beyond the bound {r['beyond_bound']}; 5xx/failed {r['server_errors']}")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateways", required=True, help="host:data:admin,...")
    parser.add_argument("--token", required=True)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--after", type=float, default=2.0, help="seconds of load after the revoke's response")
    parser.add_argument("--bound", type=float, default=1.0, help="seconds after the response past which a 200 is a violation")
    parser.add_argument("--title", default="broker up")
    args = parser.parse_args()
    gateways = [(h, int(d), int(a)) for h, d, a in (g.split(":") for g in args.gateways.split(","))]

    conn = http.client.HTTPConnection(gateways[0][0], gateways[0][2], timeout=30)
    status, body = request(conn, "POST", "/admin/v1/customers", token=args.token, body={"name": "Revocation Bench", "email": "bench@example.test"})
    assert status in (200, 201), (status, body)
    customer = json.loads(body)["id"]

    results = []
    for r in range(args.rounds):
        result = run_round(args, gateways, customer, r % len(gateways), f"{args.title}, round {r + 1}, revoked through gateway-{r % len(gateways) + 1}", args.after, args.bound)
        report(result, args.bound)
        results.append(result)

    sent = sum(i["sent"] for r in results for i in r["instances"])
    served = sum(i["served"] for r in results for i in r["instances"])
    after = sum(i["after_sent"] for r in results for i in r["instances"])
    after_served = sum(i["after_served"] for r in results for i in r["instances"])
    lasts = [i["last_served_ms"] for r in results for i in r["instances"] if i["last_served_ms"] is not None]
    errors = sum(r["server_errors"] for r in results)
    violations = sum(r["violations"] for r in results)
    unwarmed = sum(r.get("unwarmed", 0) for r in results)
    print(f"SUMMARY {args.title}: {args.rounds} revokes, {sent} calls sent, {served} served, {after} started after a revoke's "
          f"response, {after_served} of them served; latest 200 relative to the response: {max(lasts):+.0f} ms "
          f"(bound {args.bound * 1000:.0f} ms); revoke answered in {min(r['revoke_ms'] for r in results):.0f}-"
          f"{max(r['revoke_ms'] for r in results):.0f} ms; 5xx/failed {errors}; violations {violations}; "
          f"instances that had not served the key before a revoke {unwarmed}")
    return 1 if violations or errors or unwarmed else 0


if __name__ == "__main__":
    sys.exit(main())
