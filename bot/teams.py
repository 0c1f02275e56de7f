"""The Teams side of the bot: botbuilder activities in, the engine's replies out.

Only this module and `bot.endpoint` know botbuilder. Messages go to the `Answerer` as plain
text (the bot's own @mention removed) with the asker's time zone; installations are stored as
conversation references so that alerts can be posted there later."""

import asyncio
import html
import logging
import re
from collections.abc import Sequence
from copy import copy
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.core import ActivityHandler, CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.actions import Actor, acknowledge, snooze
from alerts.audience import Viewer, names_people, viewer_of
from alerts.targets import TEAMS
from bot.alert_messages import alert_message
from bot.engine import Answerer
from bot.facts import Reply
from bot.teams_sender import activity as teams_activity
from bot.teams_sender import delivery_error
from storage import queries
from storage.alerts import queue_update, subscribe, subscriptions_of, unsubscribe
from storage.audit import record_change
from storage.clock import Clock
from storage.conversations import (
    ConversationBase,
    any_conversation_of_team,
    get_conversation,
    remove_conversation,
    remove_team,
    save_conversation,
)
from storage.models import Job

log = logging.getLogger(__name__)

APOLOGY = ("Sorry — something went wrong on my side while answering that. "
           "Try 'help' to see what I can answer.")
WELCOME = "Hi, I'm OpenTrace: ask me about your batch jobs in your own words."
SUBSCRIPTION = re.compile(r"^(subscribe|unsubscribe|subscriptions)\b(.*)$")
AT_TAG = re.compile(r"<at\b[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
NAME_LENGTH = 200  # storage.conversations' name columns
UPDATE_TIMEOUT_SECONDS = 10.0
# Teams events about a team's channels (channelData.eventType) and what they mean for us.
CHANNEL_KEPT = ("channelCreated", "channelRenamed", "channelRestored")
TEAM_KEPT = ("teamRenamed", "teamRestored", "teamUnarchived")
TEAM_GONE = ("teamDeleted", "teamHardDeleted")


class OpenTraceBot(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self, answerer: Answerer, engine: AsyncEngine, *, clock: Clock,
                 default_timezone: str = "UTC") -> None:
        super().__init__()
        self.answerer = answerer
        self._engine = engine
        self._clock = clock
        self._default_timezone = default_timezone
        self.update_timeout = UPDATE_TIMEOUT_SECONDS  # an acknowledged card, updated in the turn

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value.get("opentrace"):
            await self._card_action(turn_context, activity.value)
            return
        question = question_text(activity)
        command = SUBSCRIPTION.match(question.strip().lower())
        if command:
            await self._subscription(turn_context, command.group(1), (command.group(2) or "").strip())
            return
        # Answers usually take milliseconds, but a cold database or a long history may not:
        # the typing indicator costs one small request and tells the asker we heard them.
        await turn_context.send_activity(Activity(type=ActivityTypes.typing))
        try:
            reply = await self.answerer.reply(
                question, timezone=asker_timezone(activity), conversation=activity.conversation.id,
                viewer=await self._viewer(turn_context, await self._place(activity)))
        except Exception:
            log.exception("answering %r failed", question)
            reply = Reply(APOLOGY)
        await turn_context.send_activity(message(reply))

    async def _card_action(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """Acknowledge / Snooze on an alert card: record it, then update the card in place."""
        activity = turn_context.activity
        here = await self._place(activity)
        actor = Actor(person_name(activity), person_identity(activity), origin(here))
        try:
            alert_id = int(value.get("alert", 0))
        except (TypeError, ValueError):
            alert_id = 0
        now = self._clock()
        if value["opentrace"] == "acknowledge":
            alert = await acknowledge(self._engine, alert_id, actor, now)
        elif value["opentrace"] == "snooze" and value.get("for") in ("1h", "tomorrow"):
            alert = await snooze(self._engine, alert_id, str(value["for"]), actor, now,
                                 self._default_timezone)
        else:
            alert = None
        if alert is None:
            await turn_context.send_activity(MessageFactory.text("That alert no longer exists."))
            return
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            updated = await alert_message(session, alert, "opened", self._default_timezone)
        if activity.reply_to_id:
            card = teams_activity(updated)
            card.id = activity.reply_to_id
            try:
                await asyncio.wait_for(turn_context.update_activity(card), self.update_timeout)
            except Exception as exc:  # throttled, down or silent: the deliverer retries it
                async with AsyncSession(self._engine) as session:
                    await queue_update(alert_id=alert.id or 0, channel=TEAMS,
                                       target=place(activity).conversation_id,
                                       activity_id=activity.reply_to_id, error=str(delivery_error(exc)),
                                       now=now, session=session)

    async def _subscription(self, turn_context: TurnContext, verb: str, name: str) -> None:
        """`subscribe <job>`, `unsubscribe <job>`, `subscriptions` — for this conversation."""
        activity = turn_context.activity
        here = await self._place(activity)
        viewer = await self._viewer(turn_context, here)
        now = self._clock()
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            visible = viewer.visible(await queries.all_jobs(session=session))
            if verb == "subscriptions":
                slugs = {job.slug for job in visible}
                jobs = [slug for slug in await subscriptions_of(here.conversation_id, session=session)
                        if slug in slugs]
                text = ("This conversation gets alerts for: " + ", ".join(jobs) + "." if jobs else
                        "This conversation has no subscriptions; it gets the alerts of jobs that "
                        "name no target. Say 'subscribe <job>' to follow one.")
                await turn_context.send_activity(MessageFactory.text(text))
                return
            job = find_job(visible, name)
            if job is None:
                if hidden := find_job(await queries.all_jobs(session=session), name):
                    record_change("audience.refused", actor=person_identity(activity),
                                  target=hidden.slug, origin=origin(here), at=now,
                                  details={"command": f"{verb} {name}"[:500]}, session=session)
                    await session.commit()
                known = ", ".join(j.slug for j in visible[:20])
                text = (f"I don't know a job called '{name}'. I know: {known or 'none yet'}."
                        if name else f"Say '{verb} <job>', e.g. '{verb} nightly-product-import'.")
                await turn_context.send_activity(MessageFactory.text(text))
                return
            details = {"conversation": here.conversation_id}
            action = "subscription.added" if verb == "subscribe" else "subscription.removed"
            if verb == "subscribe":
                await save_conversation(here, now, session=session)
            record_change(action, actor=person_identity(activity), target=job.slug,
                          origin=origin(here), at=now, details=details, session=session)
            if verb == "subscribe":
                await subscribe(here.conversation_id, job.slug, now, session=session)
                text = f"This conversation now gets the alerts of {job.title} ({job.slug})."
            else:
                removed = await unsubscribe(here.conversation_id, job.slug, session=session)
                text = (f"This conversation no longer gets the alerts of {job.title}." if removed
                        else f"This conversation was not subscribed to {job.title}.")
        await turn_context.send_activity(MessageFactory.text(text))

    async def _viewer(self, turn_context: TurnContext, here: ConversationBase) -> Viewer:
        """Where the question is asked and by whom, as jobs' audiences name them. In a
        personal chat the asker's UPN is looked up once, if some audience names people by it."""
        activity = turn_context.activity
        if here.scope == "personal" and activity.from_property:
            here.person_upn = await self._person_upn(turn_context, here)
        return replace(viewer_of(here), identity=person_identity(activity), origin=origin(here))

    async def _place(self, activity: Activity) -> ConversationBase:
        """Where the activity happened, with the names Teams sends only at installation and
        on renames (a message carries the team's and channel's ids alone)."""
        here = place(activity)
        async with AsyncSession(self._engine) as session:
            stored = await get_conversation(here.conversation_id, session=session)
            if here.team_id and not here.team_name and stored is None:
                stored = await any_conversation_of_team(here.team_id, session=session)
        if stored is not None:
            here.team_name = here.team_name or stored.team_name
            if stored.conversation_id == here.conversation_id:
                here.channel_name = here.channel_name or stored.channel_name
                here.person_upn = here.person_upn or stored.person_upn
        return here

    async def _person_upn(self, turn_context: TurnContext, here: ConversationBase) -> str | None:
        if here.person_upn:
            return here.person_upn
        async with AsyncSession(self._engine) as session:
            if not any(names_people(job) for job in await queries.all_jobs(session=session)):
                return None
        try:
            member = await asyncio.wait_for(
                TeamsInfo.get_member(turn_context, turn_context.activity.from_property.id),
                self.update_timeout)
        except Exception as exc:  # without it, UPN entries do not match: the job stays hidden
            log.warning("could not look up the asker's UPN: %r", exc)
            return None
        upn = getattr(member, "user_principal_name", None) or None
        if upn:
            here.person_upn = upn[:300]
            await self._remember(here)
        return here.person_upn

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if _includes_bot(activity.members_added, activity):
            await self._remember(place(activity))
        elif _includes_bot(activity.members_removed, activity):
            await self._forget(activity)
        event = _channel_data(activity).get("eventType")
        channel = _channel_data(activity).get("channel") or {}
        if event in CHANNEL_KEPT and channel.get("id"):
            await self._remember(place(activity, channel=channel))
        elif event == "channelDeleted" and channel.get("id"):
            await self._remove(channel["id"])
        elif event in TEAM_KEPT:
            await self._remember(place(activity))
        elif event in TEAM_GONE:
            await self._forget(activity)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await self._remember(place(activity))
        if activity.action == "add":  # not on "add-upgrade": people already met the bot
            await turn_context.send_activity(message(await self._welcome(activity)))

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget(turn_context.activity)

    async def _welcome(self, activity: Activity) -> Reply:
        help_reply = await self.answerer.reply(
            "help", timezone=asker_timezone(activity), conversation=activity.conversation.id,
            viewer=viewer_of(place(activity)))
        return Reply(f"{WELCOME}\n\n{help_reply.text}", help_reply.card)

    async def _remember(self, found: ConversationBase) -> None:
        async with AsyncSession(self._engine) as session:
            await save_conversation(found, self._clock(), session=session)
        log.info("bot is in %s conversation %s", found.scope, found.conversation_id)

    async def _forget(self, activity: Activity) -> None:
        """The bot left: forget the conversation, and every channel of the team it left."""
        found = place(activity)
        async with AsyncSession(self._engine) as session:
            if found.scope == "team" and found.team_id:
                await remove_team(found.team_id, session=session)
            await remove_conversation(found.conversation_id, session=session)
        log.info("bot left %s conversation %s", found.scope, found.conversation_id)

    async def _remove(self, conversation_id: str) -> None:
        async with AsyncSession(self._engine) as session:
            await remove_conversation(conversation_id, session=session)


def find_job(jobs: Sequence[Job], name: str) -> Job | None:
    """A job by its slug, title or one of its aliases, ignoring case."""
    wanted = name.strip().strip("'\"").lower()
    if not wanted:
        return None
    for job in jobs:
        if wanted in (job.slug, job.title.lower(), *(a.lower() for a in job.aliases)):
            return job
    return None


def question_text(activity: Activity) -> str:
    """What the asker typed to the bot: its own @mention removed, other people's mentions
    kept as plain names, HTML entities decoded and whitespace collapsed. A pressed "did you
    mean" button arrives as text from Teams (imBack); clients that send an Action.Submit's
    data instead (Web Chat, the Agents Playground) carry the same question in its value."""
    text = activity.text or _button_question(activity.value)
    bot = activity.recipient or ChannelAccount()
    for entity in activity.entities or []:
        extra = _extra(entity)
        mentioned = extra.get("mentioned") or {}
        if (entity.type or "").lower() == "mention" and bot.id and mentioned.get("id") == bot.id \
                and extra.get("text"):
            text = text.replace(extra["text"], " ")

    def leftover(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return " " if bot.name and name.lower() == bot.name.strip().lower() else name

    return " ".join(html.unescape(AT_TAG.sub(leftover, text)).split())


def asker_timezone(activity: Activity) -> str | None:
    """The asker's IANA zone: the activity's `localTimezone`, else the `clientInfo` entity's."""
    candidates = [activity.local_timezone]
    candidates += [_extra(e).get("timezone") for e in activity.entities or []
                   if (e.type or "").lower() == "clientinfo"]
    for name in candidates:
        if isinstance(name, str) and name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return name
    return None


def message(reply: Reply) -> Activity:
    if reply.card is None:
        return MessageFactory.text(reply.text)
    return MessageFactory.attachment(CardFactory.adaptive_card(reply.card), text=reply.text)


def place(activity: Activity, *, channel: dict[str, Any] | None = None) -> ConversationBase:
    """Where this activity happened, with the reference a proactive post needs.

    A channel thread's id carries `;messageid=…`; the stored id is the conversation's own, so
    later posts start a new thread. With `channel` (a Teams channel event) the place is that
    channel of the activity's team."""
    data = _channel_data(activity)
    team = data.get("team") or {}
    conversation = activity.conversation
    if channel is None:
        conversation_id = conversation.id.split(";messageid=")[0]
        channel = data.get("channel") or {}
        if channel.get("id") != conversation_id:
            channel = {}
    else:
        conversation_id = channel["id"]
    kind = conversation.conversation_type
    scope = ("team" if kind == "channel" or team else
             "groupChat" if kind == "groupChat" or conversation.is_group else "personal")
    tenant_id = (data.get("tenant") or {}).get("id") or conversation.tenant_id
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    reference.conversation = copy(conversation)
    reference.conversation.id = conversation_id
    serialized: dict[str, Any] = reference.serialize()
    if tenant_id:  # botbuilder's model spells it tenantID and drops Teams' tenantId
        serialized["conversation"]["tenantId"] = tenant_id
    person = activity.from_property if scope == "personal" else None
    return ConversationBase(
        conversation_id=conversation_id,
        scope=scope,
        person_id=(person.aad_object_id or None) if person else None,
        tenant_id=tenant_id,
        team_id=team.get("id"),
        team_name=_name(team.get("name")),
        channel_id=(channel.get("id") or conversation_id) if scope == "team" else None,
        channel_name=_name(channel.get("name")),
        service_url=activity.service_url,
        reference=serialized,
    )


def person_name(activity: Activity) -> str:
    return (activity.from_property.name if activity.from_property else None) or "someone"


def person_identity(activity: Activity) -> str:
    """Who did something, for the audit log: the name Teams shows and the Entra object id."""
    person = activity.from_property
    aad = f" (aad {person.aad_object_id})" if person and person.aad_object_id else ""
    return f"Teams user {person_name(activity)}{aad}"


def origin(here: ConversationBase) -> str:
    if here.scope == "team":
        return f"Teams team {here.team_name or here.team_id} / channel " \
               f"{here.channel_name or here.channel_id}"
    return f"Teams {'personal chat' if here.scope == 'personal' else 'group chat'} " \
           f"{here.conversation_id}"


def _includes_bot(members: list[ChannelAccount] | None, activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    return bool(bot_id) and any(member.id == bot_id for member in members or [])


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def _extra(entity: Any) -> dict[str, Any]:
    """An entity's fields beyond `type` (botbuilder keeps them as additional properties)."""
    extra = getattr(entity, "additional_properties", None)
    return extra if isinstance(extra, dict) else {}


def _button_question(value: Any) -> str:
    """The question of a "did you mean" button sent as Action.Submit data."""
    msteams = value.get("msteams") if isinstance(value, dict) else None
    if not isinstance(msteams, dict) or msteams.get("type") != "imBack":
        return ""
    asked = msteams.get("value")
    return asked if isinstance(asked, str) else ""


def _name(value: Any) -> str | None:
    return value[:NAME_LENGTH] if isinstance(value, str) and value else None
