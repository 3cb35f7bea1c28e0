"""Fixtures for the service desk connectors: a real Request Tracker 5 (once per session,
behind a fault-injecting proxy per test) and fake Jira SM / ServiceNow servers, all over
real HTTP, each wrapped in a :class:`~tests.servicedesk.support.Harness`."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from integrations.servicedesk import ServiceDesk
from tests.conftest import free_port, need
from tests.servicedesk import rt_server
from tests.servicedesk.fake_jira import JiraHarness
from tests.servicedesk.fake_servicenow import ServiceNowHarness
from tests.servicedesk.rt_server import RTHarness, WebhookReceiver
from tests.servicedesk.support import Harness


@pytest.fixture(scope="session")
def rt_instance(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[rt_server.RTServer, WebhookReceiver]]:
    """One real RT 5 for the whole session, on a copy of its database."""
    reason = rt_server.missing()
    need(reason is None, reason or "")
    receiver = WebhookReceiver()
    server = rt_server.start(
        tmp_path_factory.mktemp("rt"),
        webhook_url=receiver.url,
        webhook_secret=secrets.token_hex(16),
        port=free_port(),
    )
    print(f"\nRequest Tracker 5 ready at {server.url} in {server.started_in:.1f} s")
    yield server, receiver
    rt_server.stop(server)
    receiver.close()


async def _running(name: str, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    made: Harness
    if name == "rt":
        made = RTHarness(*request.getfixturevalue("rt_instance"))
    elif name == "jira":
        made = JiraHarness()
    else:
        made = ServiceNowHarness()
    await made.server.up()
    yield made
    await made.close()


@pytest.fixture(params=["rt", "jira", "servicenow"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """Each desk in turn, up; every connector a test makes is closed afterwards."""
    async for made in _running(request.param, request):
        yield made


@pytest.fixture
async def rt_harness(request: pytest.FixtureRequest) -> AsyncIterator[RTHarness]:
    async for made in _running("rt", request):
        assert isinstance(made, RTHarness)
        yield made


@pytest.fixture
async def jira_harness(request: pytest.FixtureRequest) -> AsyncIterator[JiraHarness]:
    async for made in _running("jira", request):
        assert isinstance(made, JiraHarness)
        yield made


@pytest.fixture
async def servicenow_harness(request: pytest.FixtureRequest) -> AsyncIterator[ServiceNowHarness]:
    async for made in _running("servicenow", request):
        assert isinstance(made, ServiceNowHarness)
        yield made


@pytest.fixture
def desk(harness: Harness) -> ServiceDesk:
    return harness.connect()
