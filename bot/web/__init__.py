"""aiohttp pages that are not a chat channel: articles, health, (later) desk and reports."""
