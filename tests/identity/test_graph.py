"""The Entra ID adapter against a fake Microsoft Graph over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from integrations.identity.base import Contact, DirectoryError, Person
from integrations.identity.graph import GraphDirectory
from tests.identity import fake_graph
from tests.identity.fake_graph import ADMINS_GROUP, HELPDESK_ROLE, FakeGraph
from tests.identity.fakes import Sleeps

TEMPORARY = "Tmp-Hazel-Otter-4821"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.served.up()
    yield fake
    await fake.served.down()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def directory(graph: FakeGraph, sleeps: Sleeps) -> AsyncIterator[GraphDirectory]:
    made = connect(graph, sleeps)
    yield made
    await made.aclose()


def connect(graph: FakeGraph, sleeps: Sleeps, **changes: Any) -> GraphDirectory:
    values: dict[str, Any] = {
        "tenant": fake_graph.TENANT,
        "client_id": fake_graph.CLIENT_ID,
        "client_secret": fake_graph.CLIENT_SECRET,
        "privileged_groups": (ADMINS_GROUP, HELPDESK_ROLE),
        "graph_url": graph.graph_url,
        "login_url": graph.url,
        "timeout": 2.0,
        "backoff": 0.25,
        "sleep": sleeps,
    }
    values.update(changes)
    return GraphDirectory(**values)


async def test_finds_a_person_by_mail_whatever_the_case(directory: GraphDirectory) -> None:
    sam = await directory.find("Sam.Taylor@DACORUM.gov.uk")
    assert sam == Person(
        key="11111111-sam",
        email="sam.taylor@dacorum.gov.uk",
        display_name="Sam Taylor",
        contacts=(Contact("sms", "+44 7700 900123"), Contact("email", "sam.taylor@example.org")),
        privileged=False,
        locked=None,
    )
    assert await directory.find("nobody@dacorum.gov.uk") is None


async def test_quotes_in_the_address_are_escaped_not_obeyed(directory: GraphDirectory) -> None:
    robin = await directory.find("robin.o'neill@aylesburyvaledc.gov.uk")
    assert robin is not None and robin.key == "44444444-robin"
    assert robin.contacts == ()
    assert await directory.find("x' or mail eq 'sam.taylor@dacorum.gov.uk") is None


async def test_members_of_a_privileged_group_or_role_are_privileged(
    graph: FakeGraph, sleeps: Sleeps, directory: GraphDirectory
) -> None:
    chris = await directory.find("chris.morgan@dacorum.gov.uk")
    robin = await directory.find("robin.o'neill@aylesburyvaledc.gov.uk")
    alex = await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert chris and chris.privileged  # a group
    assert robin and robin.privileged  # a directory role
    assert alex and not alex.privileged
    groups = (*(f"g{i}" for i in range(25)), ADMINS_GROUP)
    many = connect(graph, sleeps, privileged_groups=groups)
    chris = await many.find("chris.morgan@dacorum.gov.uk")
    assert chris and chris.privileged  # found in the second request of 20 ids
    await many.aclose()
    nobody = connect(graph, sleeps, privileged_groups=())
    chris = await nobody.find("chris.morgan@dacorum.gov.uk")
    assert chris and not chris.privileged
    await nobody.aclose()


async def test_reset_password_must_change_and_revokes_sessions(
    graph: FakeGraph, directory: GraphDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alex = await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert alex is not None

    await directory.reset_password(alex, TEMPORARY)

    user = graph.users["22222222-alex"]
    assert (user.password, user.force_change, user.sessions_revoked) == (TEMPORARY, True, 1)
    assert TEMPORARY not in caplog.text
    assert not any(token in caplog.text for token in graph.tokens.valid)


async def test_reset_mfa_removes_every_method_the_default_last(
    graph: FakeGraph, directory: GraphDirectory
) -> None:
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None
    default = graph.users[sam.key].default_method

    await directory.reset_mfa(sam)

    user = graph.users[sam.key]
    assert user.methods == []
    assert user.sessions_revoked == 1
    deletes = [path for method, path in graph.requests if method == "DELETE"]
    assert deletes[-1].endswith(f"/microsoftAuthenticatorMethods/{default}")
    # Entra refused the default once, while other methods remained
    assert len(deletes) == 6


async def test_reset_mfa_with_nothing_registered_just_signs_out(
    graph: FakeGraph, directory: GraphDirectory
) -> None:
    alex = await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert alex is not None
    await directory.reset_mfa(alex)
    assert graph.users[alex.key].sessions_revoked == 1


async def test_a_method_entra_keeps_refusing_is_an_error(
    graph: FakeGraph, directory: GraphDirectory
) -> None:
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None
    # a method of a kind Graph can't delete here stays behind, so the default can't go
    graph.users[sam.key].methods.append(
        {"@odata.type": "#microsoft.graph.platformCredentialAuthenticationMethod", "id": "pc1"}
    )
    with pytest.raises(DirectoryError, match="microsoftAuthenticatorMethods") as caught:
        await directory.reset_mfa(sam)
    assert not caught.value.retryable


async def test_entra_lockouts_are_not_cleared_through_graph(directory: GraphDirectory) -> None:
    assert directory.supports == {"reset_password", "reset_mfa"}
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None
    with pytest.raises(DirectoryError):
        await directory.unlock(sam)


async def test_the_token_is_kept_until_it_expires(
    graph: FakeGraph, directory: GraphDirectory
) -> None:
    await directory.find("sam.taylor@dacorum.gov.uk")
    await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert graph.tokens.issued == 1


async def test_a_401_fetches_a_new_token_once(graph: FakeGraph, directory: GraphDirectory) -> None:
    await directory.find("sam.taylor@dacorum.gov.uk")
    graph.tokens.expire_all()
    assert await directory.find("sam.taylor@dacorum.gov.uk") is not None
    assert graph.tokens.issued == 2


async def test_a_second_401_is_an_error(graph: FakeGraph, directory: GraphDirectory) -> None:
    graph.faults.fail_next(2, status=401)
    with pytest.raises(DirectoryError, match="401") as caught:
        await directory.find("sam.taylor@dacorum.gov.uk")
    assert not caught.value.retryable
    assert graph.tokens.issued == 2


async def test_a_wrong_client_secret_is_not_retryable(graph: FakeGraph, sleeps: Sleeps) -> None:
    wrong = connect(graph, sleeps, client_secret="not-the-secret")
    with pytest.raises(DirectoryError, match="invalid_client") as caught:
        await wrong.find("sam.taylor@dacorum.gov.uk")
    assert not caught.value.retryable
    assert "not-the-secret" not in str(caught.value)
    await wrong.aclose()


async def test_403_is_not_retried(graph: FakeGraph, directory: GraphDirectory) -> None:
    alex = await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert alex is not None
    graph.faults.fail_next(1, status=403)
    with pytest.raises(DirectoryError, match="403") as caught:
        await directory.reset_password(alex, TEMPORARY)
    assert not caught.value.retryable
    assert TEMPORARY not in str(caught.value)
    assert graph.users[alex.key].password != TEMPORARY


async def test_429_waits_as_long_as_retry_after_says(
    graph: FakeGraph, sleeps: Sleeps, directory: GraphDirectory
) -> None:
    graph.faults.fail_next(2, status=429, retry_after="3")
    assert await directory.find("sam.taylor@dacorum.gov.uk") is not None
    assert sleeps.waits == [3.0, 3.0]


async def test_a_retry_after_too_long_to_wait_is_a_retryable_error(
    graph: FakeGraph, sleeps: Sleeps, directory: GraphDirectory
) -> None:
    graph.faults.fail_next(1, status=429, retry_after="3600")
    with pytest.raises(DirectoryError, match="429") as caught:
        await directory.find("sam.taylor@dacorum.gov.uk")
    assert caught.value.retryable
    assert sleeps.waits == []


async def test_5xx_backs_off_and_recovers(
    graph: FakeGraph, sleeps: Sleeps, directory: GraphDirectory
) -> None:
    graph.faults.fail_next(2, status=503)
    assert await directory.find("sam.taylor@dacorum.gov.uk") is not None
    assert sleeps.waits == [0.25, 0.5]


async def test_5xx_that_persists_is_a_retryable_error(
    graph: FakeGraph, sleeps: Sleeps, directory: GraphDirectory
) -> None:
    graph.faults.fail_next(10, status=500)
    with pytest.raises(DirectoryError, match="500") as caught:
        await directory.find("sam.taylor@dacorum.gov.uk")
    assert caught.value.retryable
    assert len(sleeps.waits) == 3  # three retries, then the error
    assert graph.faults.count == 6


async def test_timeouts_are_retried_then_a_retryable_error(
    graph: FakeGraph, sleeps: Sleeps
) -> None:
    impatient = connect(graph, sleeps, timeout=0.3, retries=1)
    await impatient.find("sam.taylor@dacorum.gov.uk")  # the token, while all is well
    graph.faults.delay = 5.0
    with pytest.raises(DirectoryError, match="cannot reach") as caught:
        await impatient.find("sam.taylor@dacorum.gov.uk")
    assert caught.value.retryable
    assert len(sleeps.waits) == 1
    graph.faults.delay = 0.0
    await impatient.aclose()


async def test_graph_down_is_a_retryable_error(
    graph: FakeGraph, sleeps: Sleeps, directory: GraphDirectory
) -> None:
    await graph.served.down()
    with pytest.raises(DirectoryError, match="cannot reach") as caught:
        await directory.find("sam.taylor@dacorum.gov.uk")
    assert caught.value.retryable


async def test_a_refused_password_is_not_repeated_in_the_error(
    directory: GraphDirectory,
) -> None:
    alex = await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert alex is not None
    with pytest.raises(DirectoryError, match="complexity") as caught:
        await directory.reset_password(alex, "short")
    assert not caught.value.retryable
    assert "short" not in str(caught.value).replace("complexity", "")
