"""The states of an alert and of a delivery: constants only, so the CLI can offer them
without loading the database layer."""

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
ALERT_STATES = (OPEN, ACKNOWLEDGED, RESOLVED)
PENDING, SENT, FAILED = "pending", "sent", "failed"
# What a delivery tells: an alert opened, resolved, or its posted card updated in place.
OPENED, UPDATED = "opened", "updated"
