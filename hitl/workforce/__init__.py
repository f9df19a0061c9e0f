"""Running a rater workforce: qualification, attention checks and minimum time, work limits, skills and expert
routing, escalation, and reward-model auto-labels with a human audit (issue 14).

    hitl workforce rules demo --qualification-items 5      # then: hitl workforce status demo

rules (the campaign's settings), errors, skills, standing (warnings, pauses, reinstatement, qualification), limits
(stretches, daily totals, fatigue), route (what next_item may hand a rater, cached per rater and campaign), hooks
(what a recorded judgment changes), escalation (the expert queue), automation (auto-labels and their audit), curve
(the routing curve: label accuracy against human judgments spent). Modules import what they use; this package
imports nothing, so the queue can use it without cycles.
"""
