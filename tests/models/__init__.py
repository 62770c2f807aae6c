"""Plain-Python models of what the service keeps, shared by the state machines of several dialects."""
