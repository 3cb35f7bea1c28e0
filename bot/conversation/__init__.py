"""Channel-neutral conversation core: Incoming, Reply, the engine and who is asking."""

from bot.conversation.messages import ArticleCard, Button, Incoming, Reply

__all__ = ["ArticleCard", "Button", "Incoming", "Reply"]
