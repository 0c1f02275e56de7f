"""Who may see which job, through the real endpoint: the payroll export belongs to Finance.
Asked about it in the Sales team, the bot behaves as if it did not exist — in answers, lists,
overviews, subscriptions and alerts — and the refusal is in the audit log. In Finance, and in
the personal chat of a person the audience names, it answers as usual."""

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import Deliverer
from alerts.watcher import Watcher
from bot.alert_messages import AlertComposer
from bot.endpoint import TEAMS
from bot.teams_sender import TeamsSender
from storage.audit import audit_entries
from tests.alerts.test_watcher import run_ids
from tests.bot.conftest import Heard
from tests.bot.connector import Connector
from tests.bot.story import BERLIN, IMPORT, normal_night
from tests.bot.test_teams_endpoint import BOT_ADDED, BOT_ID, TENANT, USER, Teams, start_teams
from tests.conftest import Clock

PAYROLL = "payroll-export"
FINANCE = {"team": {"id": "19:finance@thread.tacv2", "name": "Finance"},
           "channel": {"id": "19:controlling@thread.tacv2", "name": "Controlling"}}
SALES = {"team": {"id": "19:sales@thread.tacv2", "name": "Sales"},
         "channel": {"id": "19:sales-general@thread.tacv2", "name": "General"}}
ANA = {"id": "29:1ana", "name": "Ana Lopez", "aadObjectId": "0f3c2b1a-0000-4000-8000-0000000000aa"}
ANA_UPN = "ana.lopez@contoso.example"
ANA_CHAT = "a:1personal-chat-with-ana"


@dataclass
class Office:
    """Two teams and a personal chat, each talking to one server."""

    teams: Teams
    heard: Heard

    def in_team(self, place: dict[str, Any], kind: str, **fields: Any) -> dict[str, Any]:
        """Teams names the team and channel when the bot is added; messages carry ids only."""
        channel, team = place["channel"], place["team"]
        if kind == "message":
            channel, team = {"id": channel["id"]}, {"id": team["id"]}
        data = {"team": team, "channel": channel, "tenant": {"id": TENANT}}
        conversation = {"id": channel["id"], "conversationType": "channel", "isGroup": True}
        return self.teams.activity(kind, conversation, channelData=data, **fields)

    async def add_bot(self, place: dict[str, Any]) -> None:
        response = await self.teams.post(self.in_team(place, "conversationUpdate", **BOT_ADDED))
        assert response.status == 201

    async def ask(self, place: dict[str, Any] | None, text: str,
                  person: dict[str, Any] = USER) -> str:
        """What the bot answered, as text and card text together."""
        if place is None:
            activity = self.teams.activity(
                "message", {"id": ANA_CHAT, "conversationType": "personal"}, text=text)
            activity["from"] = person
        else:
            activity = self.in_team(place, "message", text=f"<at>OpenTrace</at> {text}",
                                    entities=[{"type": "mention", "text": "<at>OpenTrace</at>",
                                               "mentioned": {"id": BOT_ID, "name": "OpenTrace"}}])
        before = len(self.teams.connector.calls)
        response = await self.teams.post(activity)
        assert response.status == 201, await response.text()
        said = [c.activity for c in self.teams.connector.calls[before:]
                if c.activity.get("type") == "message"]
        assert said, f"no answer to {text!r}"
        return f"{said[-1].get('text')} {json.dumps(said[-1].get('attachments'))}"


@pytest.fixture
async def office(database_url: str, clock: Clock, connector: Connector,
                 overhear: Callable[[Any], Heard]) -> AsyncIterator[Office]:
    clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)
    async for teams, heard in start_teams(database_url, clock, connector, overhear):
        api = teams.api
        put = await api.put(f"/v1/jobs/{PAYROLL}", {
            "title": "Payroll export", "owner": "finance-ops", "timezone": "Europe/Berlin",
            "audience": ["Finance", ANA_UPN]})
        assert put.status == 201, await put.text()
        await api.put(f"/v1/jobs/{IMPORT}", {"title": "Nightly product import"})
        await api.send_ok(normal_night(24, 40))
        payroll = {"job": PAYROLL, "run": "2026-11-25"}
        await api.send_ok([
            {**payroll, "kind": "start", "at": "2026-11-25T02:00:00+01:00"},
            {**payroll, "kind": "metric", "at": "2026-11-25T02:10:00+01:00",
             "name": "payslips", "value": 1432},
            {**payroll, "kind": "finish", "at": "2026-11-25T02:11:00+01:00",
             "status": "failed", "text": "bank file rejected"}])
        office = Office(teams, heard)
        await office.add_bot(FINANCE)
        await office.add_bot(SALES)
        yield office


def mentions_payroll(text: str) -> bool:
    """Anything of the job beyond the asker's own words ("a job called 'payroll export'",
    which is what any unknown name gets)."""
    text = re.sub(r"a job called '[^']*'", "a job called …", text.lower())
    return any(word in text for word in ("payroll", "payslip", "bank file", "finance-ops"))


async def test_in_the_finance_team_the_payroll_export_is_answered(office: Office) -> None:
    answer = await office.ask(FINANCE, "did the payroll export run today?")

    assert "Payroll export" in answer and "failed" in answer


@pytest.mark.parametrize("question", [
    "did the payroll export run today?",
    "how many payslips were there last night?",
    "what jobs do you know?",
    "is anything broken?",
    "anything late?",
    "status of everything",
])
async def test_in_the_sales_team_the_payroll_export_does_not_exist(
    office: Office, question: str
) -> None:
    answer = await office.ask(SALES, question)

    assert not mentions_payroll(answer), answer


async def test_a_question_about_a_hidden_job_reads_like_one_about_an_unknown_job(
    office: Office
) -> None:
    hidden = await office.ask(SALES, "did the payroll export run today?")
    unknown = await office.ask(SALES, "did the lunch export run today?")

    # Same shape of answer: nothing tells the asker that a payroll job exists somewhere.
    assert hidden.replace("payroll", "X") == unknown.replace("lunch", "X")


async def test_sales_cannot_subscribe_to_it_and_the_refusals_are_audited(office: Office) -> None:
    subscribed = await office.ask(SALES, "subscribe payroll-export")
    await office.ask(SALES, "did the payroll export run today?")

    assert "don't know a job called" in subscribed
    async with AsyncSession(office.teams.api.engine) as session:
        refused = await audit_entries(action="audience.refused", session=session)
    assert [(e.target, e.origin) for e in refused] == [
        (PAYROLL, "Teams team Sales / channel General")] * 2
    assert all(e.actor.startswith("Teams user Sam Ops (aad ") for e in refused)
    assert [e.details for e in refused] == [{"question": "did the payroll export run today?"},
                                            {"command": "subscribe payroll-export"}]


async def test_its_failure_alerts_finance_only(office: Office, clock: Clock) -> None:
    engine = office.teams.api.engine
    app = office.teams.api.client.server.app
    assert app is not None
    watcher = Watcher(engine, clock=clock)
    deliverer = Deliverer(engine, clock=clock, senders={
        "teams": TeamsSender(app[TEAMS].adapter, engine, "")}, compose=AlertComposer())
    await watcher.check_due()
    await watcher.judge_runs(await run_ids(office.teams.api, PAYROLL, ["2026-11-25"]))
    await deliverer.deliver_due()

    posted = [c.path for c in office.teams.connector.sent() if c.method == "POST"]
    assert any(FINANCE["channel"]["id"] in path for path in posted), posted
    assert not any(SALES["channel"]["id"] in path for path in posted), posted


async def test_a_person_named_by_upn_sees_it_in_their_own_chat(
    office: Office, connector: Connector
) -> None:
    connector.people[ANA["id"]] = {**ANA, "userPrincipalName": ANA_UPN, "email": ANA_UPN}

    own_chat = await office.ask(None, "did the payroll export run today?", person=ANA)
    in_sales = await office.ask(SALES, "did the payroll export run today?", person=ANA)

    assert "Payroll export" in own_chat and "failed" in own_chat
    assert not mentions_payroll(in_sales)  # a channel is not her own chat


async def test_someone_else_in_a_personal_chat_does_not(
    office: Office, connector: Connector
) -> None:
    connector.people[USER["id"]] = {**USER, "userPrincipalName": "sam.ops@contoso.example"}

    answer = await office.ask(None, "did the payroll export run today?", person=USER)

    assert not mentions_payroll(answer)
