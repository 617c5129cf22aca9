"""Stacks: they only compose constructs from configuration."""
