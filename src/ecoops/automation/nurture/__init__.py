"""Nurture sequences: timed messages to partners (and their partner managers) by life-cycle stage.

A sequence belongs to one stage and holds steps, each due a number of days after the partner entered
that stage. The worker's tick (`runner.run_nurture`) enrols partners, enqueues each due step once, and
stops an enrolment when its partner moves on. See docs/automation.md, "Nurture and digests".
"""
