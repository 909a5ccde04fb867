"""The weekly digest: each account executive's best partner overlaps and open referrals, by e-mail.

`job.send_weekly_digests` is a worker tick job; `picks` chooses and ranks what each digest holds;
`message` renders it. See docs/automation.md, "Nurture and digests".
"""
