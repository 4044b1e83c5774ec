"""Care programs: enrolment funnel, randomised arms, weekly modules, content, quality control and KPIs (issue 17)."""
