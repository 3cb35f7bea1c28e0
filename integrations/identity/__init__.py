"""People's accounts in the councils' directories: find, reset password, unlock, reset MFA.

One :class:`~integrations.identity.base.Directory` protocol; ``ITBOT_DIRECTORY`` picks the
adapter (``demo``, ``ldap``, ``graph``, ``google``).
"""
