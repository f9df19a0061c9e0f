"""Reward models: judgments -> TRL preference data (`reward.data`), training (`reward.train`), evaluation
(`reward.evaluate`) and the one scorer everything else uses (`reward.score`).

    hitl train-reward --config configs/cpu.yaml --campaign demo

Importing this package is cheap; torch and transformers load with the modules that need them.
"""
