"""The joint IT self-service bot: settings, wiring, conversation, channels, storage, CLI."""
