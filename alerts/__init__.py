"""Judging runs against what their jobs promised, and telling people: schedule maths, the
expectations, the watcher, the leader election between replicas, and the deliverer with its
`Sender` protocol and the webhook sender. Alerts reads and records through `storage` and knows
nothing of Teams: the bot implements its `Sender` and `Composer`, the app factory wires them."""
