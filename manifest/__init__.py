"""The Teams app package a Teams admin uploads: the template (`manifest.json`), its two icons,
and `package.py`, which fills in the bot's app id and host and zips them. Shipped as package
data, so `opentrace manifest` works from any install, not only from a checkout."""
