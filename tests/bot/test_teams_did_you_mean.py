"""The "did you mean" buttons through the real endpoint: the card reaches Teams (the stand-in
connector) as an Adaptive Card attachment, and pressing a button — which Teams turns into a
plain message with the button's question as its text (imBack) — asks that question."""

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from tests.bot.conftest import Heard
from tests.bot.connector import ADAPTIVE_CARD, Connector
from tests.bot.story import NOW, tell_the_story
from tests.bot.test_teams_endpoint import Teams, start_teams
from tests.conftest import Api, Clock


@pytest.fixture
async def told(database_url: str, clock: Clock, connector: Connector,
               overhear: Callable[[Api], Heard]) -> AsyncIterator[tuple[Teams, Heard]]:
    clock.now = NOW - timedelta(days=8)
    async for client, heard in start_teams(database_url, clock, connector, overhear):
        await tell_the_story(client.api)
        clock.now = NOW
        yield client, heard


async def test_pressing_a_reading_asks_it(told: tuple[Teams, Heard], connector: Connector) -> None:
    client, heard = told

    await client.post(client.personal_message("which sharepoint folder does the import go to",
                                              "Europe/Berlin"))
    unsure = connector.messages()[0]
    card = unsure["attachments"][0]
    pressed = card["content"]["actions"][0]["data"]["msteams"]["value"]
    await client.post(client.personal_message(pressed, "Europe/Berlin"))

    assert unsure["text"].startswith("I'm not sure what")
    assert card["contentType"] == ADAPTIVE_CARD
    assert heard.questions[1][0] == "did the Nightly product import run?"
    assert connector.messages()[1]["text"].startswith("No — today's Nightly product import")
