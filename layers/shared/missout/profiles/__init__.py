"""Profiles: the nickname, the avatar and the stats of a wallet; its activity list."""
