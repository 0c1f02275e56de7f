"""Who may see a job. A job definition's `audience` names teams, channels or chats (by name
or id) and people (by Entra object id or UPN); the bot answers about, lists, counts and alerts
on the job only in conversations of that audience, and everywhere else behaves as if the job
did not exist. No audience: everyone sees it.

A person's entry counts only in that person's own (personal) chat: in a channel or a group
chat everyone present reads the answer, so there the conversation itself must be named."""

from collections.abc import Iterable
from dataclasses import dataclass

from storage.conversations import ConversationBase
from storage.models import Job


@dataclass(frozen=True)
class Viewer:
    """Where a question is asked or an alert would go, by every name an audience may use."""

    names: frozenset[str]
    everyone: bool = False  # the command line and the HTTP API, where tokens decide
    identity: str | None = None  # who asks, for the audit log: "Teams user Ana (aad …)"
    origin: str | None = None  # where: "team Sales / channel General"

    def sees(self, job: Job) -> bool:
        return self.everyone or not job.audience or any(
            audience_name(entry) in self.names for entry in job.audience)

    def visible(self, jobs: Iterable[Job]) -> list[Job]:
        return [job for job in jobs if self.sees(job)]


EVERYONE = Viewer(frozenset(), everyone=True)


def audience_name(entry: str) -> str:
    """How an audience or alert entry and a conversation's names are compared: case and a
    leading '#' ignored ("#Sales" is the channel "sales")."""
    return entry.strip().lstrip("#").lower()


def viewer_of(conversation: ConversationBase) -> Viewer:
    names: list[str | None] = [conversation.conversation_id]
    if conversation.scope == "team":
        names += [conversation.team_id, conversation.team_name, conversation.channel_id,
                  conversation.channel_name]
        if conversation.team_name and conversation.channel_name:
            names.append(f"{conversation.team_name}/{conversation.channel_name}")
    elif conversation.scope == "personal":
        names += [conversation.person_id, conversation.person_upn]
    return Viewer(frozenset(audience_name(name) for name in names if name))


def names_people(job: Job) -> bool:
    """Whether the job's audience names someone by UPN, which Teams does not send with a
    message: the bot then looks the asker up once (and remembers)."""
    return any("@" in entry.strip().lstrip("@") for entry in job.audience)
