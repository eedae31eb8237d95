"""Shared values of the AWS plugin's tests."""

from __future__ import annotations

# Credentials the emulator accepts; real-looking shapes, so the scrubbing tests are meaningful.
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION": "us-east-1",
}
