"""RabbitMQ: signals in, events out.

Signals in (`connection`, `topology`, `signals_in`, `router`): the trading signals of the
model service arrive on a quorum queue with a single active consumer. One node's
`SignalRouter` republishes each to its account's partition queue; the owner of a partition
consumes it with a `SignalConsumer`, which acknowledges a signal only once the engine has
journaled its outcome, dead-letters what can never succeed and stops when the node may no
longer journal.

Import the modules themselves (`ordergate.bus.signals_in` …): this package re-exports
nothing, so importing one part never pulls in another.
"""
