"""ServiceNow specifics, against the fake: what an incident is filed with, data policies,
and encoded queries that can't be escaped."""

from __future__ import annotations

import pytest

from integrations.servicedesk import DeskRejected
from tests.servicedesk.fake_servicenow import ServiceNowHarness
from tests.servicedesk.support import draft


async def test_what_an_incident_is_filed_with(servicenow_harness: ServiceNowHarness) -> None:
    group, caller = "a" * 32, "b" * 32
    desk = servicenow_harness.connect(assignment_group=group, caller_id=caller)
    filed = draft(priority="P1")

    ticket = await desk.create(filed)

    row = servicenow_harness.fake.tables["incident"][ticket.remote_id]
    assert ticket.display_id == row["number"] == "INC0010001"
    assert (row["impact"], row["urgency"]) == ("1", "1")
    assert (row["correlation_id"], row["correlation_display"]) == (filed.reference, "itbot")
    assert (row["assignment_group"], row["caller_id"]) == (group, caller)
    assert row["short_description"] == f"[{filed.reference}] {filed.subject}"
    assert "Sam Taylor <sam.taylor@dacorum.gov.uk>" in row["description"]
    assert "Bot: Let's raise a ticket." in row["description"]


async def test_pending_and_resolved_carry_what_servicenow_requires(
    servicenow_harness: ServiceNowHarness,
) -> None:
    desk = servicenow_harness.connect()
    ticket = await desk.create(draft())

    await desk.set_status(ticket.remote_id, "pending")
    await desk.set_status(ticket.remote_id, "resolved")

    row = servicenow_harness.fake.tables["incident"][ticket.remote_id]
    assert (row["state"], row["hold_reason"], row["close_code"]) == ("6", "1", "Solution provided")


async def test_a_data_policy_refusal_is_a_rejection(servicenow_harness: ServiceNowHarness) -> None:
    desk = servicenow_harness.connect(resolution_code="")
    ticket = await desk.create(draft())

    with pytest.raises(DeskRejected, match=r"refused state 6.*Resolution code"):
        await desk.set_status(ticket.remote_id, "resolved")

    assert (await desk.fetch(ticket.remote_id)).status == "new"


async def test_values_an_encoded_query_cannot_hold(servicenow_harness: ServiceNowHarness) -> None:
    desk = servicenow_harness.connect()

    with pytest.raises(DeskRejected, match="can't be used in a ServiceNow query"):
        await desk.create(draft("JSD-1^ORDERBYnumber"))

    assert servicenow_harness.faults.requests == []
