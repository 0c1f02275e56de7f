"""A multi-tenant bot registration can be installed by anyone; OPENTRACE_ALLOWED_TENANTS
keeps telemetry inside the organisations it lists. Activities from other tenants get 403 and
leave nothing behind: no conversation, no subscription, no answer."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from opentrace.settings import Settings
from tests.bot.conftest import Heard
from tests.bot.connector import Connector
from tests.bot.test_teams_endpoint import BOT_ADDED, TENANT, Teams, start_teams, stored
from tests.conftest import Clock

OTHER_TENANT = "0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def from_tenant(activity: dict[str, Any], tenant: str | None) -> dict[str, Any]:
    """The activity as Teams would send it from `tenant` (None: no tenant at all)."""
    activity = {**activity, "conversation": dict(activity["conversation"]),
                "channelData": dict(activity.get("channelData") or {})}
    activity["conversation"].pop("tenantId", None)
    activity["channelData"].pop("tenant", None)
    if tenant:
        activity["conversation"]["tenantId"] = tenant
        activity["channelData"]["tenant"] = {"id": tenant}
    return activity


@pytest.fixture
async def guarded(database_url: str, clock: Clock, connector: Connector,
                  overhear: Callable[[Any], Heard]) -> AsyncIterator[tuple[Teams, Heard]]:
    async for pair in start_teams(database_url, clock, connector, overhear,
                                  allowed_tenants=(TENANT,)):
        yield pair


@pytest.mark.parametrize("tenant", [OTHER_TENANT, None])
async def test_activities_from_another_tenant_are_refused_and_leave_nothing(
    guarded: tuple[Teams, Heard], tenant: str | None
) -> None:
    teams, heard = guarded
    activities = [teams.team_event("conversationUpdate", **BOT_ADDED),
                  teams.personal_event("installationUpdate", action="add"),
                  teams.channel_message("<at>OpenTrace</at> subscribe nightly-product-import"),
                  teams.personal_message("did the import run today?")]

    responses = [await teams.post(from_tenant(a, tenant)) for a in activities]

    assert [r.status for r in responses] == [403] * 4
    assert all(["tenant" in (await r.json())["error"] for r in responses])
    assert await stored(teams) == []
    assert heard.questions == []
    assert teams.connector.sent() == []  # not even a typing indicator


async def test_the_allowed_tenant_is_served(guarded: tuple[Teams, Heard]) -> None:
    teams, heard = guarded

    added = await teams.post(teams.team_event("conversationUpdate", **BOT_ADDED))
    asked = await teams.post(teams.personal_message("did the import run today?"))

    assert (added.status, asked.status) == (201, 201)
    assert len(await stored(teams)) == 1
    assert [q for q, _, _ in heard.questions] == ["did the import run today?"]


def test_the_apps_own_tenant_is_the_default_and_the_list_wins() -> None:
    own = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"

    assert Settings.from_env({}).accepted_tenants == frozenset()
    assert Settings.from_env({"MicrosoftAppTenantId": own}).accepted_tenants == {own.lower()}
    assert Settings.from_env({"MicrosoftAppTenantId": own,
                              "OPENTRACE_ALLOWED_TENANTS": f"{OTHER_TENANT}, {TENANT}"}
                             ).accepted_tenants == {OTHER_TENANT, TENANT}
