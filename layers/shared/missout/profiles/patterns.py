"""The shapes a profile request's values must have, as regular expressions: what the API's models declare
(and its OpenAPI document shows) without loading the profile code that uses them."""

NICKNAME_PATTERN = r"^[A-Za-z0-9_]{3,20}$"
ACTIVITY_CURSOR = r"^[0-9]{1,17}\.[0-9]{1,19}$"  # `<epoch microseconds>.<id>`: missout.profiles.activity
