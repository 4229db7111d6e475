#!/usr/bin/python3
"""Sends N notifications to pushgw-sim with aioapns (Debian python3-aioapns + uvloop), the way a
Python shop would: one APNs client (max_connections=10, aioapns' default), every send an
asyncio task, all gathered. Prints {"sent", "ok", "seconds"} as JSON.

Minimal patch, documented: aioapns has no endpoint option, so APNS_SERVER/APNS_PORT of its
protocol class are set to the simulator's; the simulator's certificate is trusted through
aioapns' own ssl_context parameter.
"""
import argparse
import asyncio
import json
import ssl
import time
import uuid

import uvloop
from aioapns import APNs, NotificationRequest
from aioapns.connection import APNsProductionClientProtocol


def token(i):
    return "cd" + format(i, "062x")


async def main(args):
    APNsProductionClientProtocol.APNS_SERVER = "127.0.0.1"
    APNsProductionClientProtocol.APNS_PORT = args.port
    context = ssl.create_default_context(cafile=args.ca)
    context.set_alpn_protocols(["h2"])  # as aioapns does for the context it makes itself
    client = APNs(key=args.key, key_id="ABC123DEFG", team_id="DEF123GHIJ", topic="com.example.demo",
                  use_sandbox=False, ssl_context=context)
    start = time.time()

    async def send(i):
        request = NotificationRequest(device_token=token(i), message={"aps": {"alert": {"title": "bench"}},
                                                                      "bench_enqueued_ms": int(time.time() * 1000)},
                                      notification_id=str(uuid.uuid4()))
        response = await client.send_notification(request)
        return response.is_successful

    results = await asyncio.gather(*(send(i) for i in range(args.n)))
    print(json.dumps({"sent": args.n, "ok": sum(results), "seconds": time.time() - start}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--n", type=int, default=200000)
    uvloop.install()
    asyncio.run(main(parser.parse_args()))
