"""The use cases: consume state -> ceremony -> trust -> storage + audit, one function each.

This is the only layer that holds a database transaction around the ceremony code. Flask
stays outside: the web layer turns HTTP into the typed arguments these functions take.
"""
