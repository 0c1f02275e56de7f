"""The privacy statement and terms of use the Teams app package links to by default
(`opentrace manifest` points `privacyUrl` and `termsOfUseUrl` here). They say plainly what
this server stores; an organisation with its own pages passes their URLs instead."""

from aiohttp import web

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenTrace — {title}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto; line-height: 1.5">
<h1>OpenTrace — {title}</h1>
{body}
</body></html>
"""

PRIVACY = """
<p>This OpenTrace server is run by your organisation. It stores what batch jobs report about
their runs (times, status, metrics, notes, file names) and, for its Teams bot, the
conversations it was added to (team, channel or chat ids and names, and in a personal chat the
person's Entra object id and user principal name) so that it can answer and post alerts there.</p>
<p>Questions asked in Teams are answered and not stored, except when a question names a job
the conversation may not see: then who asked, where and the question are kept in the audit
log. Acknowledging or snoozing an alert and subscribing a conversation are recorded with the
person's name and Entra object id. Telemetry older than the configured retention is pruned;
the audit log is kept. Nothing is sent to anyone outside your organisation's Teams tenant.</p>
<p>Ask the people who run this server for a copy or the removal of what it holds about you.</p>
"""

TERMS = """
<p>This OpenTrace server is operated by your organisation for its own staff. Use it to follow
your organisation's batch jobs; its answers come from what the jobs report and from the
schedules and expectations your organisation defined, and may be wrong when those are.</p>
<p>OpenTrace is open-source software provided as is, without warranty of any kind.</p>
"""


async def privacy(_: web.Request) -> web.Response:
    return web.Response(text=PAGE.format(title="privacy", body=PRIVACY), content_type="text/html")


async def terms(_: web.Request) -> web.Response:
    return web.Response(text=PAGE.format(title="terms of use", body=TERMS), content_type="text/html")
