"""Metrics adapters (the `Metrics` port): CloudWatch in the AWS shape."""
