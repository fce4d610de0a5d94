"""The API's edge: what stands between a client and a route.

Body limits, the key check before the body, timeouts, connection caps, the listeners.
"""
