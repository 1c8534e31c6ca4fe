"""Settings shared by every test."""

from hypothesis import HealthCheck, settings

# Property tests check what the codecs do, not how fast the machine draws examples: on a
# shared, busy machine Hypothesis' timing checks (a deadline per example, "input generation
# is slow") fail tests whose behaviour is right.
settings.register_profile(
    "switchboard", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("switchboard")
