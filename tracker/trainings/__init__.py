"""培训台账: the trainings register (党员教育培训, 村干部培训, 后备干部培训 …).

A branch is expected to hold trainings at the frequency in ``[rules] training``
(default quarterly); the county dashboard counts the windows met.
"""
