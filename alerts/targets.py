"""Where a job's alerts go: the conversations that subscribed to it, the targets its
definition names (a channel or chat by name, or a Teams Workflows webhook URL), and — when
neither says anything — every conversation the bot is installed in; always only those of
the job's audience."""

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.audience import viewer_of
from storage import alerts
from storage.conversations import list_conversations
from storage.models import Job

TEAMS, WEBHOOK = "teams", "webhook"


async def targets_for(session: AsyncSession, job: Job) -> list[tuple[str, str]]:
    """Teams conversations outside the job's audience never get its alerts, whatever names
    them (a subscription made before the audience was set, a channel in `alert`)."""
    conversations = [c for c in await list_conversations(session=session) if viewer_of(c).sees(job)]
    allowed = {c.conversation_id for c in conversations}
    targets = {(TEAMS, c) for c in await alerts.subscribers(job.slug, session=session)
               if not job.audience or c in allowed}
    for name in job.alert:
        if name.lower().startswith(("https://", "http://")):
            targets.add((WEBHOOK, name))
            continue
        wanted = name.strip().lstrip("#").lower()
        for conversation in conversations:
            names = {(conversation.channel_name or "").lower(), (conversation.team_name or "").lower(),
                     f"{conversation.team_name}/{conversation.channel_name}".lower(),
                     conversation.conversation_id.lower()}
            if wanted in names:
                targets.add((TEAMS, conversation.conversation_id))
    if not targets and not job.alert:
        targets = {(TEAMS, c.conversation_id) for c in conversations}
    return sorted(targets)
