"""hitl: human-in-the-loop RLHF — collect preference judgments, train reward models and policies."""

__version__ = "0.1.0"
