"""The push services: one module per service (apns, fcm, wns), the HTTP/2 transport they share,
and the loopback sandbox gateways that stand in for them in the demo, the tests and benchmarks.
"""
