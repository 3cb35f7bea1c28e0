"""Proving who someone is and resetting their access: codes, throttles, directories, senders.

Sits beside the desk: it may use the desk (tickets, approvals, audit) and storage, and the
adapters in ``integrations``; nothing in the desk or storage imports it.
"""
