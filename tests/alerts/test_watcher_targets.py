"""The watcher tells each job's alerts to whom `alerts.targets.targets_for` says, though it
works out the targets of every job with an alert in one go (a pass after a restart tells
thousands of jobs): subscriptions, named channels and webhooks, everyone the bot is in when
nothing is named — always within the job's audience."""

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.targets import targets_for
from alerts.watcher import Watcher
from storage import queries
from storage.alerts import subscribe
from storage.conversations import ConversationBase, save_conversation
from tests.conftest import Api, Clock

SALES = ConversationBase(conversation_id="19:sales@thread.tacv2", scope="team",
                         team_id="19:sales-team@thread.tacv2", team_name="Sales",
                         channel_id="19:sales@thread.tacv2", channel_name="General",
                         service_url="https://smba.example/", reference={})
OPS = ConversationBase(conversation_id="19:ops@thread.tacv2", scope="team",
                       team_id="19:ops-team@thread.tacv2", team_name="Data Platform",
                       channel_id="19:ops@thread.tacv2", channel_name="Ops",
                       service_url="https://smba.example/", reference={})
ANA = ConversationBase(conversation_id="a:ana", scope="personal", person_id="ana-oid",
                       person_upn="ana.lopez@contoso.com", service_url="https://smba.example/",
                       reference={})
DEFINITIONS = {
    "nobody-named": {},
    "a-channel": {"alert": ["#ops"]},
    "a-webhook-only": {"alert": ["https://hooks.example/workflow"]},
    "finance-only": {"audience": ["Sales"], "alert": ["Data Platform/Ops", "Sales"]},
    "subscribed": {"alert": ["https://hooks.example/workflow"]},
    "subscribed-outside-its-audience": {"audience": ["ana.lopez@contoso.com"]},
}


async def test_the_targets_of_many_jobs_are_those_of_each(api: Api, clock: Clock) -> None:
    async with AsyncSession(api.engine) as session:
        for conversation in (SALES, OPS, ANA):
            await save_conversation(conversation, clock(), session=session)
    for slug, definition in DEFINITIONS.items():
        assert (await api.put(f"/v1/jobs/{slug}", definition)).status == 201
    async with AsyncSession(api.engine) as session:
        for slug in ("subscribed", "subscribed-outside-its-audience"):
            await subscribe(SALES.conversation_id, slug, clock(), session=session)
        jobs = {job.id or 0: job for job in await queries.all_jobs(session=session)}
        one_by_one = {job_id: await targets_for(session, job) for job_id, job in jobs.items()}
        together = await Watcher(api.engine, clock=clock)._targets(session, jobs)

    assert together == one_by_one
    assert all(one_by_one.values()), "every case tells someone"
