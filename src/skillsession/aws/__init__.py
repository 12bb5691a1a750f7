"""AWS Lambda entry points (`lambda_handler` for the HTTP API, `expiry_handler` for the job)."""
