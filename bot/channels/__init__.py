"""Channel adapters: the only code that knows about Slack, HTML or a terminal."""
