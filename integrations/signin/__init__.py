"""Signing people in with their council's identity provider (OpenID Connect)."""
