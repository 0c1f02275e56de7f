"""An alert target that names nobody is said out loud — when the definition is stored and by
`opentrace alerts` — instead of the job's alerts silently reaching no one."""

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from opentrace.alerts_cli import print_alerts
from storage.conversations import ConversationBase, save_conversation
from tests.conftest import Api, Clock

SALES = ConversationBase(conversation_id="19:sales@thread.tacv2", scope="team",
                         team_id="19:sales-team@thread.tacv2", team_name="Sales",
                         channel_id="19:sales@thread.tacv2", channel_name="General",
                         service_url="https://smba.example/", reference={})


async def define(api: Api, alert: list[str]) -> list[str]:
    response = await api.put("/v1/jobs/nightly-import", {"title": "Nightly import", "alert": alert})
    body = await response.json()
    assert response.status in (200, 201), body
    return body["warnings"]  # type: ignore[no-any-return]


async def test_a_target_the_bot_is_not_in_is_a_warning_until_it_is(api: Api, clock: Clock) -> None:
    before = await define(api, ["Sales", "https://hooks.example/workflow"])
    async with AsyncSession(api.engine) as session:
        await save_conversation(SALES, clock(), session=session)
    after = await define(api, ["Sales", "#general", "https://hooks.example/workflow"])

    assert len(before) == 1 and "'Sales'" in before[0] and "reach nobody" in before[0]
    assert after == []  # the team by name, the channel by name; webhooks are not checked


async def test_opentrace_alerts_says_so_too(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    await define(api, ["Controlling"])

    async with AsyncSession(api.engine) as session:
        await print_alerts(session, None, 10)

    assert capsys.readouterr().out.splitlines()[0].startswith(
        "warning: nightly-import: alert target 'Controlling' names no Teams channel")
