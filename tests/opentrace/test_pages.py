"""The privacy and terms pages the Teams app package links to by default are served, without
a token, and say what the server stores."""

from tests.conftest import Api


async def test_the_privacy_statement_and_terms_are_served_to_anyone(api: Api) -> None:
    privacy = await api.client.get("/privacy")
    terms = await api.client.get("/terms")

    assert (privacy.status, terms.status) == (200, 200)
    assert privacy.content_type == "text/html"
    text = await privacy.text()
    assert "stores" in text and "audit log" in text and "retention" in text
    assert "without warranty" in await terms.text()
