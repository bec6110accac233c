"""The audit trail: one row per ceremony outcome, written in the ceremony's own transaction.

Because the record shares the transaction, it exists exactly when the ceremony's effects
do: a rolled-back ceremony leaves no record of having succeeded, and a failure that
consumed its challenge commits that consumption and its record together.
"""
