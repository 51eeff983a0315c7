"""The asyncio polling engine (no Textual): placeholder until it lands."""
