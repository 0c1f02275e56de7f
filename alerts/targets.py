"""Where a job's alerts go: the conversations that subscribed to it, the targets its
definition names (a channel or chat by name, or a Teams Workflows webhook URL), and — when
neither says anything — every conversation the bot is installed in; always only those of
the job's audience."""

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.audience import audience_name, viewer_of
from storage import alerts
from storage.conversations import Conversation, ConversationBase, list_conversations
from storage.models import Job

TEAMS, WEBHOOK = "teams", "webhook"


async def targets_for(session: AsyncSession, job: Job) -> list[tuple[str, str]]:
    """Teams conversations outside the job's audience never get its alerts, whatever names
    them (a subscription made before the audience was set, a channel in `alert`)."""
    conversations = await audience_conversations(session, job)
    allowed = {c.conversation_id for c in conversations}
    targets = {(TEAMS, c) for c in await alerts.subscribers(job.slug, session=session)
               if not job.audience or c in allowed}
    for name in job.alert:
        if is_webhook(name):
            targets.add((WEBHOOK, name))
            continue
        targets.update((TEAMS, c.conversation_id) for c in conversations if names(c, name))
    if not targets and not job.alert:
        targets = {(TEAMS, c.conversation_id) for c in conversations}
    return sorted(targets)


async def audience_conversations(session: AsyncSession, job: Job) -> list[Conversation]:
    """The conversations the bot is in that the job's audience includes (all, without one)."""
    return [c for c in await list_conversations(session=session) if viewer_of(c).sees(job)]


def is_webhook(target: str) -> bool:
    return target.lower().startswith(("https://", "http://"))


def names(conversation: ConversationBase, target: str) -> bool:
    """Whether an `alert` entry ("Sales", "#ops", "Data Platform/Ops", an id) names it."""
    return audience_name(target) in {
        (conversation.channel_name or "").lower(), (conversation.team_name or "").lower(),
        f"{conversation.team_name}/{conversation.channel_name}".lower(),
        conversation.conversation_id.lower()}


async def unreachable_targets(session: AsyncSession, job: Job) -> list[str]:
    """The job's `alert` entries that name no conversation the bot is in (and may post to,
    given the job's audience): its alerts reach nobody there — said at PUT time and by
    `opentrace alerts`, rather than silently."""
    conversations = await audience_conversations(session, job)
    return [target for target in job.alert
            if not is_webhook(target) and not any(names(c, target) for c in conversations)]


def unreachable_warning(target: str) -> str:
    return (f"alert target {target!r} names no Teams channel or chat the bot is in (or may post "
            f"to): its alerts reach nobody there until the bot is added to it")
